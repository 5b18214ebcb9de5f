from django.urls import path

from apps.builder import builder_views, draft_views, sign_views, views

app_name = "builder"
urlpatterns = [
    # Drafts: the list and a new blank draft (draft_views).
    path("", draft_views.draft_list, name="list"),
    path("new/", draft_views.draft_new, name="new"),
    # The draft page and its tabs (views.draft_page dispatches ?tab=).
    path("<id:pk>/", views.draft_page, name="draft"),
    # Build tab: autosave + live check + price, component add/remove/move (builder_views).
    path("<id:pk>/save/", builder_views.draft_save, name="save"),
    # Sign tab: send the message to the owner's key holder (sign_views).
    path("<id:pk>/sign/", sign_views.draft_sign, name="sign"),
]
