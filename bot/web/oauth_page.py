"""The plain page a seller sees after authorizing the partner's app on TikTok: one friendly
sentence, escaped, no script, no secret."""

from __future__ import annotations

import html

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title} · Shop Health Bot</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; background: #f6f7f9; color: #1d1f24;
       display: flex; min-height: 100vh; align-items: center; justify-content: center; margin: 0; }}
main {{ background: #fff; max-width: 32rem; padding: 2rem 2.5rem; border-radius: 12px;
       box-shadow: 0 2px 12px rgba(0, 0, 0, .08); }}
h1 {{ font-size: 1.4rem; margin: 0 0 .75rem; }}
p {{ line-height: 1.5; margin: .5rem 0; }}
ul {{ padding-left: 1.2rem; }}
</style>
</head>
<body>
<main>
<h1>{icon} {title}</h1>
<p>{message}</p>
{shops}
</main>
</body>
</html>
"""


def oauth_page(title: str, message: str, *, ok: bool, shops: tuple[str, ...] = ()) -> str:
    listed = ""
    if shops:
        items = "".join(f"<li>{html.escape(name)}</li>" for name in shops[:50])
        listed = f"<p>Shops connected:</p><ul>{items}</ul>"
    return PAGE.format(
        icon="&#9989;" if ok else "&#9888;&#65039;",
        title=html.escape(title),
        message=html.escape(message),
        shops=listed,
    )
