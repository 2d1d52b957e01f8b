// The browser's side of the desk's sign-in cookies (marketdesk.accounts.cookies, marketdesk.web.session).
//
// The cookies are httpOnly, so only the server's answers set them: the page calls the auth API with fetch
// (same origin, so the browser keeps what Set-Cookie says) and echoes the md_csrf cookie in X-CSRF-Token.
// A refresh token works once, and using one twice signs its session out everywhere: refreshes are serialised
// across this browser's tabs (Web Locks where the page is a secure context), and a tab skips its refresh when
// another one has just done it, since the tabs share the cookies.
(() => {
  const AUTH = "/api/v1/auth";
  const CSRF_COOKIE = "md_csrf";
  const CSRF_HEADER = "X-CSRF-Token";
  const REFRESHED_AT = "md_refreshed_at"; // localStorage: when a tab of this browser last refreshed
  const SHARED_FRESH_MS = 30000;
  const THROUGH = "md_through"; // sessionStorage: the refresh-through passes of this tab
  const THROUGH_WINDOW_MS = 15000;
  const RETRY_MS = 30000;

  function csrf() {
    const prefix = CSRF_COOKIE + "=";
    const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
    return found ? decodeURIComponent(found.slice(prefix.length)) : "";
  }

  function loginUrl(next) {
    return "/login?next=" + encodeURIComponent(next || location.pathname + location.search);
  }

  // Call the desk's API; answer {ok, status, message, hint, retry_after}, never the body (it may hold tokens).
  async function call(method, path, body) {
    const headers = { Accept: "application/json" };
    const token = csrf();
    if (token) headers[CSRF_HEADER] = token;
    const init = { method, headers, credentials: "same-origin", cache: "no-store" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      return { ok: false, status: 0, message: "the desk did not answer", hint: "Check your connection and try again.", retry_after: null };
    }
    let error = {};
    if (!response.ok) {
      try {
        error = (await response.json()).error || {};
      } catch (ignored) {
        error = {};
      }
    }
    const retry = Number(response.headers.get("Retry-After"));
    return {
      ok: response.ok,
      status: response.status,
      message: error.message || (response.ok ? "" : "the desk answered " + response.status),
      hint: error.hint || "",
      retry_after: Number.isFinite(retry) && retry > 0 ? retry : null,
    };
  }

  async function refresh(force) {
    const run = async () => {
      const last = Number(localStorage.getItem(REFRESHED_AT) || 0);
      if (!force && Date.now() - last < SHARED_FRESH_MS) {
        return { ok: true, status: 200, message: "", hint: "", retry_after: null, shared: true };
      }
      const answer = await call("POST", AUTH + "/refresh");
      if (answer.ok) localStorage.setItem(REFRESHED_AT, String(Date.now()));
      return answer;
    };
    return navigator.locks ? navigator.locks.request("md-refresh", run) : run();
  }

  let timer = null;

  // Keep the access cookie alive while the page is open: refresh a little before it expires.
  function keepFresh(remaining_s, lifetime_s) {
    const margin = (seconds) => Math.min(60, seconds * 0.2) + Math.random() * Math.min(10, seconds * 0.05);
    const schedule = (delay_ms) => {
      clearTimeout(timer);
      timer = setTimeout(tick, Math.max(1000, delay_ms));
    };
    const tick = async () => {
      const answer = await refresh(false);
      if (answer.ok) schedule((lifetime_s - margin(lifetime_s)) * 1000);
      else if (answer.status === 401 || answer.status === 403) location.assign(loginUrl());
      else schedule(RETRY_MS);
    };
    schedule((remaining_s - margin(lifetime_s)) * 1000);
  }

  // The refresh-through page: renew the access cookie, then load `target` again; sign in when that fails.
  async function through(target, status) {
    let passes = [];
    try {
      passes = JSON.parse(sessionStorage.getItem(THROUGH) || "[]").filter((at) => Date.now() - at < THROUGH_WINDOW_MS);
    } catch (ignored) {
      passes = [];
    }
    if (passes.length >= 2) {
      sessionStorage.removeItem(THROUGH);
      location.replace(loginUrl(target));
      return;
    }
    sessionStorage.setItem(THROUGH, JSON.stringify([...passes, Date.now()]));
    const answer = await refresh(passes.length > 0);
    if (answer.ok) {
      location.replace(target);
    } else if (answer.status === 401 || answer.status === 403) {
      sessionStorage.removeItem(THROUGH);
      location.replace(loginUrl(target));
    } else if (status) {
      status.textContent = "Could not renew your sign-in: " + answer.message + ". " + answer.hint;
    }
  }

  async function signOut() {
    clearTimeout(timer);
    await call("POST", AUTH + "/logout");
    localStorage.removeItem(REFRESHED_AT);
    location.assign("/login");
  }

  window.mdAuth = { call, post: (path, body) => call("POST", path, body), refresh, keepFresh, through, signOut };
})();
