"""WeChat: the mini-program's server API (login codes, subscribe messages), see
docs/identity.md. ``WeChatGateway`` is what the portal calls."""

from integrations.wechat.client import (
    WeChatCodeError,
    WeChatError,
    WeChatGateway,
    WeChatSession,
)

__all__ = ["WeChatCodeError", "WeChatError", "WeChatGateway", "WeChatSession"]
