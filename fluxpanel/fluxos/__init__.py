"""Everything that speaks FluxOS, with no Django import.

`signatures`, `specs`, `pricing` and the login/zelidauth helpers reproduce FluxOS behaviour exactly
(checked against ../shared/vectors); `client` is the one HTTP client the panel uses for every call
to a Flux node.
"""
