"""Lifecycle: start/stop/restart/pause/unpause (local or global), removal and redeploys."""

from __future__ import annotations

from .addresses import component_name
from .streams import JsonObjectStream, TestInstallStream
from .transport import message_of


class LifecycleMixin:

    def _lifecycle(self, command: str, app: str, component: str | None, global_: bool):
        if global_ and component:
            raise ValueError("global commands act on a whole app, not a component")
        name = component_name(component, app)
        data = self._get("apps", command, name, True if global_ else None, auth=True,
                         read_only=False)
        return message_of(data)

    def start_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        """Start on this node, or (global_) ask this node to start every instance."""
        return self._lifecycle("appstart", app, component, global_)

    def stop_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("appstop", app, component, global_)

    def restart_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("apprestart", app, component, global_)

    def pause_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("apppause", app, component, global_)

    def unpause_app(self, app: str, component: str | None = None, *, global_: bool = False) -> str:
        return self._lifecycle("appunpause", app, component, global_)

    def remove_app(self, app: str, *, force: bool = False, global_: bool = False,
                   timeout=None) -> JsonObjectStream:
        """Uninstall (whole app only). Streams progress objects; a global removal answers one
        success message. Docker errors of single steps (the image still used by another
        container) end up in `stream.warnings`; the outcome is raised at the end of iteration."""
        url = self.path_url("apps", "appremove", app, force, True if global_ else None)
        return JsonObjectStream(self._stream(url, timeout=timeout), url, self.stream_bounds)

    def redeploy_app(self, app: str, *, force: bool = False, global_: bool = False,
                     timeout=None) -> JsonObjectStream:
        """Soft (force=False) or hard redeploy; streams progress. If a restore of the app is
        running the node never answers, so iterating raises NodeTimeout after the read timeout."""
        url = self.path_url("apps", "redeploy", app, force, True if global_ else None)
        return JsonObjectStream(self._stream(url, timeout=timeout), url, self.stream_bounds)

    def redeploy_component(self, app: str, component: str, *, force: bool = False,
                           timeout=None) -> JsonObjectStream:
        url = self.path_url("apps", "redeploycomponent", app, component, force)
        return JsonObjectStream(self._stream(url, timeout=timeout), url, self.stream_bounds)

    def test_install(self, message_hash: str, *, timeout=None) -> TestInstallStream:
        """FluxOS's test install of a temporary message (`/apps/testappinstall/<hash>`, any
        user-level zelidauth): the node installs the app with minimal resources and removes it
        again. Iterate for its chunks as they come; FluxError (with FluxOS's text) when the node
        says it failed, `stream.result` is the final message when it says it finished."""
        url = self.path_url("apps", "testappinstall", message_hash)
        return TestInstallStream(self._stream(url, timeout=timeout), url, self.stream_bounds)
