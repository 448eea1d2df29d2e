// Starts Swagger UI on latchkey's own OpenAPI document. A file of its own,
// not an inline script, so the page's Content-Security-Policy can forbid
// inline code (src/api/routes_docs.c).
"use strict";

window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({
    // Relative to /docs/, so it holds behind a proxy that adds a prefix.
    url: "../v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Never send the document to an outside validator, never take another
    // document's URL from the query string.
    validatorUrl: null,
    queryConfigEnabled: false,
    // The token pasted into "Authorize" lives in this page's memory only.
    persistAuthorization: false,
    tryItOutEnabled: false,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
  });
});
