// Renders the API reference of /openapi.json with Redoc (vendored,
// redoc.standalone.js). An external file, so the page's
// Content-Security-Policy needs no inline script.
Redoc.init("/openapi.json", { expandResponses: "200,201", hideDownloadButton: false }, document.getElementById("redoc"));
