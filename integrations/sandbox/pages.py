"""The sandbox's few HTML pages, self-contained: one small stylesheet served by the sandbox,
no scripts, no inline styles, so the portal's CSP (``style-src 'self'``) holds when the
sandbox is mounted inside it. Templates live here rather than in ``templates/``: they are
the stand-in platform's pages, not the portal's, and must not pick up its base layout.
"""

from __future__ import annotations

from typing import Any

from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse, Response

STYLESHEET = """\
body { font: 17px/1.6 system-ui, "PingFang SC", "Noto Sans CJK SC", sans-serif;
  margin: 0 auto; max-width: 42rem; padding: 0 1rem 3rem; color: #0b0c0c; }
header { border-bottom: 4px solid #c8102e; margin-bottom: 1.5rem; }
.tag { display: inline-block; background: #f3d4d9; padding: 0 .5rem; font-size: .85rem; }
fieldset { border: 0; padding: 0; margin: 0 0 1.5rem; }
legend { font-weight: 700; font-size: 1.2rem; margin-bottom: .5rem; }
.choice { display: flex; gap: .6rem; align-items: flex-start; padding: .5rem 0;
  border-bottom: 1px solid #d8dadc; }
.choice input { width: 1.4rem; height: 1.4rem; margin-top: .2rem; flex: none; }
.hint { color: #505a5f; display: block; }
.error { border: 4px solid #d4351c; padding: .5rem 1rem; margin-bottom: 1.5rem; }
button { font: inherit; padding: .5rem 1.2rem; margin: 0 .5rem .5rem 0; border: 0;
  background: #00703c; color: #fff; min-height: 44px; }
button.secondary { background: #f3f2f1; color: #0b0c0c; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: start; border-bottom: 1px solid #d8dadc; padding: .3rem .4rem; }
code { word-break: break-all; }
"""

_LAYOUT = """\
<!doctype html>
<html lang="zh-Hans">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{% block title %}{% endblock %} · 沙箱</title>
<link rel="stylesheet" href="{{ stylesheet }}">
</head>
<body>
<header><p class="tag">沙箱 · 演示用，不是真实系统</p>
<h1>{% block heading %}统一身份认证平台{% endblock %}</h1></header>
<main>{% block main %}{% endblock %}</main>
</body>
</html>
"""

_AUTHORIZE = """\
{% extends "layout.html" %}
{% block title %}选择登录身份{% endblock %}
{% block main %}
{% if error %}<div class="error" role="alert"><h2>无法登录</h2><p>{{ error }}</p></div>{% endif %}
<p>应用 <strong>{{ client_id }}</strong> 请求您登录
{%- if minimum %}，要求认证等级<strong>至少 {{ minimum }}</strong>{% endif %}。</p>
<form method="post" action="{{ action }}">
{% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
<fieldset><legend>以谁的身份登录</legend>
{% for person in people %}
<div class="choice"><input type="radio" name="person" value="{{ person.sub }}"
 id="person-{{ person.sub }}"{% if person.sub == chosen_person %} checked{% endif %}>
<label for="person-{{ person.sub }}"><strong>{{ person.name }}</strong>
（最高 {{ person.max_level }}
{%- if minimum and not reaches(person) %}，达不到 {{ minimum }}{% endif %}）
<span class="hint">{{ person.description }}</span></label></div>
{% endfor %}
</fieldset>
<fieldset><legend>本次认证等级</legend>
{% for level in levels %}
<div class="choice"><input type="radio" name="level" value="{{ level }}" id="level-{{ level }}"
{% if level == chosen_level %} checked{% endif %}>
<label for="level-{{ level }}"><strong>{{ level }}</strong>
<span class="hint">{{ meanings[level] }}</span></label></div>
{% endfor %}
</fieldset>
<button type="submit" name="decision" value="allow">登录</button>
<button type="submit" name="decision" value="deny" class="secondary">取消</button>
</form>
{% endblock %}
"""

_REFUSED = """\
{% extends "layout.html" %}
{% block title %}请求无效{% endblock %}
{% block main %}
<div class="error" role="alert"><h2>登录请求无效</h2>
<p>这个请求没有可信的返回地址，所以不会跳回应用（OAuth 2.0 第 4.1.2.1 节）。</p>
<p><code>{{ error }}</code>{% if description %}：<code>{{ description }}</code>{% endif %}</p></div>
{% endblock %}
"""

_SIGNED_OUT = """\
{% extends "layout.html" %}
{% block title %}已退出{% endblock %}
{% block main %}
<h2>您已退出统一身份认证平台</h2>
<p>可以关闭这个页面了。</p>
{% endblock %}
"""

_INDEX = """\
{% extends "layout.html" %}
{% block title %}沙箱{% endblock %}
{% block heading %}外部系统沙箱{% endblock %}
{% block main %}
<p>代替省统一身份认证平台（OpenID Connect）、微信接口、电子证照库、企业登记信息、
统一受理平台和短信网关，按真实协议通过 HTTP 工作。</p>
<h2>统一身份认证平台</h2>
<p>Issuer：<code>{{ issuer }}</code><br>
<a href="{{ issuer }}/.well-known/openid-configuration">发现文档</a> ·
<a href="{{ issuer }}/jwks">JWKS</a></p>
<h2>微信接口</h2>
<p>API base：<code>{{ wechat }}</code><br>
<a href="{{ wechat }}/sandbox/messages">已发送的订阅消息</a></p>
<h2>电子证照库、企业登记信息</h2>
<p>JSON 接口，请求头 <code>Authorization: Bearer &lt;API key&gt;</code>：<br>
电子证照库：<code>{{ licenses }}</code><br>
企业登记信息：<code>{{ registry }}</code></p>
<h2>统一受理平台（一件事）</h2>
<p>JSON 接口（OAuth 2.0 客户端凭证，状态变化以签名 webhook 推送）：<br>
API base：<code>{{ intake }}</code><br>
<a href="{{ intake_stats }}">沙箱统计</a></p>
<h2>短信网关</h2>
<p>API base：<code>{{ sms }}</code><br>
<a href="{{ sms | replace('/api/v1', '') }}/sandbox/messages">已发送的短信</a></p>
<h2>演示人员</h2>
<table>
<thead><tr><th>姓名</th><th>sub</th><th>最高等级</th><th>微信 openid</th></tr></thead>
<tbody>
{% for person in people %}
<tr><td>{{ person.name }}</td><td><code>{{ person.sub }}</code></td><td>{{ person.max_level }}</td>
<td><a href="{{ wechat }}/sandbox/login?person={{ person.sub }}">
<code>{{ person.wechat_openid }}</code></a></td></tr>
{% endfor %}
</tbody>
</table>
{% endblock %}
"""

_ENV = Environment(
    loader=DictLoader(
        {
            "layout.html": _LAYOUT,
            "authorize.html": _AUTHORIZE,
            "refused.html": _REFUSED,
            "signed_out.html": _SIGNED_OUT,
            "index.html": _INDEX,
        }
    ),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
)


def render(name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    html = _ENV.get_template(name).render(context)
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


def stylesheet() -> Response:
    return Response(STYLESHEET, media_type="text/css")
