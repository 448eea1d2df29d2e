// Starts GraphiQL on latchkey's own /graphql. A file of its own, not an
// inline script, so the page's Content-Security-Policy can forbid inline
// code (src/api/routes_docs.c). React, ReactDOM and GraphiQL are the
// globals their UMD files (loaded before this one) define.
"use strict";

(function () {
  // Relative to this page (/graphiql/), so it holds behind a proxy that
  // mounts latchkey under a path prefix.
  var endpoint = new URL("../graphql", document.baseURI).href;

  // Parses an answer as JSON; anything else (a proxy's HTML error page, an
  // empty body) is shown as a GraphQL error naming the HTTP status.
  function answer(response) {
    return response.text().then(function (text) {
      try {
        return JSON.parse(text);
      } catch (e) {
        var what = text.trim() === "" ? "(no body)" : text.slice(0, 300);
        return { errors: [{ message: "HTTP " + response.status + " " + response.statusText + ": " + what }] };
      }
    });
  }

  // Every request POSTs the operation as JSON (GraphQL over HTTP) to this
  // origin's /graphql, with the headers typed into GraphiQL's "Headers"
  // editor (a token: {"Authorization": "Bearer lk_..."}) and this origin's
  // cookies (the session cookie POST /v1/auth/login sets).
  function fetcher(params, opts) {
    var headers = {
      Accept: "application/graphql-response+json, application/json;q=0.9",
    };
    var extra = (opts && opts.headers) || {};
    Object.keys(extra).forEach(function (name) {
      headers[name] = String(extra[name]);
    });
    headers["Content-Type"] = "application/json";
    return fetch(endpoint, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(params),
      credentials: "same-origin",
      // Under the page's Referrer-Policy, no-referrer, the Fetch standard
      // has a POST say "Origin: null" (Chromium sends the origin anyway),
      // which latchkey refuses from a cookie-authenticated request
      // (docs/security.md, CSRF). same-origin sends the real origin (and a
      // Referer) to this origin, and only to it.
      referrerPolicy: "same-origin",
      cache: "no-store",
    }).then(answer);
  }

  // GraphiQL keeps its tabs, history and favourites in localStorage. Tabs
  // leave headers out (shouldPersistHeaders below), but GraphiQL 4's history
  // and favourites keep each run's headers, a token among them: this
  // storage drops them from those two lists before they are written.
  var PREFIX = "graphiql:";
  var LISTS = ["queries", "favorites"];
  function withoutHeaders(key, value) {
    var list = key.slice(PREFIX.length);
    if (key.indexOf(PREFIX) !== 0 || LISTS.indexOf(list) < 0) return value;
    try {
      var parsed = JSON.parse(value);
      (parsed[list] || []).forEach(function (item) {
        delete item.headers;
      });
      return JSON.stringify(parsed);
    } catch (err) {
      return null; // not what GraphiQL writes: keep nothing rather than a token
    }
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      var kept = withoutHeaders(key, value);
      if (kept === null) localStorage.removeItem(key);
      else localStorage.setItem(key, kept);
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    clear: function () {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf(PREFIX) === 0) localStorage.removeItem(key);
      });
    },
    get length() {
      return Object.keys(localStorage).filter(function (key) {
        return key.indexOf(PREFIX) === 0;
      }).length;
    },
  };

  var e = React.createElement;
  var help = e(
    "div",
    { className: "lk-help" },
    "Credentials: a token in Headers, as ",
    e("code", null, '{"Authorization": "Bearer lk_..."}'),
    ", or the session cookie that POST /v1/auth/login sets, which this page sends with every request. ",
    "Headers are kept in this tab only, never stored."
  );

  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    e(
      GraphiQL,
      {
        fetcher: fetcher,
        storage: storage,
        defaultEditorToolsVisibility: "headers",
        isHeadersEditorEnabled: true,
        // A token typed into Headers never reaches localStorage (nor,
        // through the storage above, the history).
        shouldPersistHeaders: false,
        showPersistHeadersSettings: false,
        defaultQuery:
          "# latchkey's GraphQL API (schema: Docs, on the left).\n" +
          "# Credentials: a token in Headers below, as\n" +
          '#   {"Authorization": "Bearer lk_..."}\n' +
          "# or the session cookie from POST /v1/auth/login.\n" +
          "# Run with Ctrl-Enter.\n" +
          "{\n  me {\n    name\n  }\n}\n",
      },
      e(GraphiQL.Logo, null, "latchkey GraphiQL"),
      e(GraphiQL.Footer, null, help)
    )
  );
})();
