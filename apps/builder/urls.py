from django.urls import path

from apps.builder import builder_views, draft_views, pay_views, sign_views, views

app_name = "builder"
urlpatterns = [
    # Drafts: the list and a new blank draft (draft_views).
    path("", draft_views.draft_list, name="list"),
    path("new/", draft_views.draft_new, name="new"),
    # Drafts from anywhere: pasted JSON (v1–v8), a duplicate, an update/renewal/cancellation of a
    # team app (<id> = the TeamApp); abandon; the Review part's check on a node (draft_views).
    path("import/", draft_views.draft_import, name="import"),
    path("apps/<id:pk>/duplicate/", draft_views.draft_duplicate, name="duplicate"),
    path("apps/<id:pk>/draft/", draft_views.draft_from_app, name="from_app"),
    path("<id:pk>/abandon/", draft_views.draft_abandon, name="abandon"),
    path("<id:pk>/node-check/", draft_views.draft_node_check, name="node_check"),
    # The draft page and its tabs (views.draft_page dispatches ?tab=).
    path("<id:pk>/", views.draft_page, name="draft"),
    # Build tab: autosave + live check + price, component add/remove/move (builder_views).
    path("<id:pk>/save/", builder_views.draft_save, name="save"),
    # Sign tab: send the message to the owner's key holder (sign_views).
    path("<id:pk>/sign/", sign_views.draft_sign, name="sign"),
    # Sign tab: retry a failed submission of the signed message (sign_views, apps.builder.submit).
    path("<id:pk>/submit/retry/", sign_views.draft_submit_retry, name="submit_retry"),
    # Pay tab: the payment watcher's state, polled by htmx (pay_views).
    path("<id:pk>/pay/status/", pay_views.pay_status, name="pay_status"),
    # Pay tab: FluxOS's test install of a new app's temporary message on a chosen node (pay_views).
    path("<id:pk>/pay/test-install/", pay_views.pay_test_install, name="test_install"),
]
