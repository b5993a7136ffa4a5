// The API documentation page: starts Swagger UI on the schema (from a file, so the page needs
// no inline script under the Content-Security-Policy).
(() => {
  "use strict";
  const root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.dataset.schema,
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null, // never send the schema to an outside validator
    presets: [window.SwaggerUIBundle.presets.apis, window.SwaggerUIBundle.SwaggerUIStandalonePreset],
  });
})();
