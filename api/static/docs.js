/* Starts the self-hosted Swagger UI on /docs (kept out of the HTML so the CSP needs no inline script). */
(function () {
  "use strict";
  if (typeof window.SwaggerUIBundle !== "function") return;
  window.ui = window.SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    tryItOutEnabled: true,
  });
})();
