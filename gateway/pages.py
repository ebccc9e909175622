"""The small landing page: log in and go to GraphiQL (dev), or read where the API is (prod)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>radioatlaujas.lv API gateway</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#123}
label{display:block;margin:.5rem 0}input{width:100%;padding:.4rem}button{margin-top:.8rem;padding:.5rem 1rem}
#status{margin-top:1rem}code{background:#eef;padding:0 .2rem}</style></head>
<body><h1>radioatlaujas.lv API gateway</h1>
<p>One GraphQL API over the billing system, the permit registry and the document store.</p>
<form id="login"><h2>Log in</h2>
<label>E-mail <input name="email" type="email" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Log in</button></form>
<p id="status" role="status"></p>
<p>__IDE__</p>
<script>
document.getElementById('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const r = await fetch('/auth/login', {method: 'POST', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({email: f.get('email'), password: f.get('password')})});
  const s = document.getElementById('status');
  if (r.ok) { const b = await r.json(); s.textContent = 'Logged in.' +
      (b.mustChangePassword ? ' Your password must be changed first.' : ''); }
  else if (r.status === 423) { const b = await r.json();
      s.textContent = 'Too many failed attempts: try again in ' + Math.ceil(b.retryAfter / 60) + ' min.'; }
  else if (r.status === 403) { s.textContent = 'This account cannot log in; contact support.'; }
  else { s.textContent = 'Wrong e-mail or password.'; }
});
</script></body></html>
"""


async def landing(request: Request) -> HTMLResponse:
    dev = request.app.state.services.settings.is_dev
    ide = (
        'Then open <a href="/graphql">GraphiQL</a>: it sends your session cookie with every query.'
        if dev
        else "Send queries to <code>POST /graphql</code> with "
        "<code>Authorization: Bearer &lt;token&gt;</code>."
    )
    return HTMLResponse(_PAGE.replace("__IDE__", ide))


RESET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Set a new password: radioatlaujas.lv</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#123}
input{width:100%;padding:.4rem}button{margin-top:.8rem;padding:.5rem 1rem}</style></head>
<body><h1>Set a new password</h1>
<p>At least 8 characters, with at least one letter and one digit; not a common password, not your name.</p>
<form id="reset">
<label>New password <input name="p" type="password" autocomplete="new-password" required></label>
<button type="submit">Save</button></form><p id="status" role="status"></p>
<script>
document.getElementById('reset').addEventListener('submit', async (e) => {
  e.preventDefault();
  const token = new URLSearchParams(location.search).get('token') || '';
  const r = await fetch('/auth/password/reset', {method: 'POST',
    headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({token, newPassword: new FormData(e.target).get('p')})});
  const s = document.getElementById('status');
  if (r.status === 204) { s.innerHTML = 'Saved. <a href="/">Log in</a> with the new password.'; return; }
  const b = await r.json();
  s.textContent = b.error === 'weak_password' ? 'The password needs: ' + b.reasons.join('; ') + '.'
    : 'This link is no longer valid: ask for a new one.';
});
</script></body></html>
"""
