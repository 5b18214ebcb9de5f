from django.utils.functional import SimpleLazyObject

from apps.accounts.access import current_membership


class CurrentTeamMiddleware:
    """Expose the session's team membership lazily, so pages that never use it pay nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.current_membership = SimpleLazyObject(lambda: current_membership(request))
        return self.get_response(request)
