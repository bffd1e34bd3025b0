"""One router per domain; `dealscope.api.app` mounts them."""
