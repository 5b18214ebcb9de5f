from django.urls import path

from apps.builder import builder_views, draft_views, payment_views, review_views, sign_views, views

app_name = "builder"
urlpatterns = [
    # Drafts: the list, and the ways a draft starts (draft_views).
    path("", draft_views.draft_list, name="list"),
    path("new/", draft_views.draft_new, name="new"),
    path("from-app/<id:pk>/", draft_views.draft_from_app, name="from_app"),
    path("<id:pk>/duplicate/", draft_views.draft_duplicate, name="duplicate"),
    path("<id:pk>/abandon/", draft_views.draft_abandon, name="abandon"),
    # The draft page and its tabs (views.draft_page dispatches ?tab=).
    path("<id:pk>/", views.draft_page, name="draft"),
    # Build tab: autosave + live check + price, component add/remove/move (builder_views).
    path("<id:pk>/save/", builder_views.draft_save, name="save"),
    # Review tab: check the spec on a node before signing (review_views).
    path("<id:pk>/check/", review_views.draft_check, name="check"),
    # Sign tab: send the message to the owner's key holder (sign_views).
    path("<id:pk>/sign/", sign_views.draft_sign, name="sign"),
    # Submission and payment (payment_views): retry a submit, test install, the payment QR.
    path("<id:pk>/submit/", payment_views.draft_submit, name="submit"),
    path("<id:pk>/test-install/", payment_views.draft_test_install, name="test_install"),
    path("<id:pk>/pay-qr/", payment_views.payment_qr, name="pay_qr"),
]
