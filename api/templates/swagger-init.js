/* Swagger UI started from a file, not an inline script: the API's CSP allows no inline script. */
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
