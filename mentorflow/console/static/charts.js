// The dashboard's charts: each .chart-view holds, in its data-spec attribute, a Vega-Lite
// specification built by the server (an attribute, not a JSON script block: htmx drops
// script elements from the pages it swaps in). vega, vega-lite and vega-embed (vendored) are loaded
// only on pages with charts. `ast: true` makes vega-embed interpret expressions instead of
// compiling them with `new Function`, which the console's CSP (no 'unsafe-eval') forbids.
(function () {
  "use strict";
  var LIBRARIES = [
    "/static/vendor/vega/vega.min.js",
    "/static/vendor/vega-lite/vega-lite.min.js",
    "/static/vendor/vega-embed/vega-embed.min.js"
  ];
  var loading = null;

  function loadScript(source) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = source;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + source)); };
      document.head.appendChild(script);
    });
  }

  function loadLibraries() {
    if (window.vegaEmbed) {
      return Promise.resolve();
    }
    if (loading === null) {
      loading = LIBRARIES.reduce(function (previous, source) {
        return previous.then(function () { return loadScript(source); });
      }, Promise.resolve());
    }
    return loading;
  }

  // Every chart of the page not drawn yet (after a whole page load, or an htmx swap).
  function render() {
    var views = Array.prototype.slice.call(
      document.querySelectorAll(".chart-view[data-spec]:not([data-rendered])")
    );
    if (views.length === 0) {
      return;
    }
    views.forEach(function (view) { view.setAttribute("data-rendered", "pending"); });
    loadLibraries().then(function () {
      views.forEach(function (view) {
        window.vegaEmbed(view, JSON.parse(view.getAttribute("data-spec")), {
          ast: true,
          actions: false,
          renderer: "svg",
          // No <style> element of vega-embed's or vega-tooltip's (style-src 'self'):
          // console.css styles the tooltip.
          defaultStyle: false,
          tooltip: { disableDefaultStyle: true }
        }).then(function () {
          view.setAttribute("data-rendered", "done");
        }).catch(function (error) {
          view.setAttribute("data-rendered", "failed");
          view.textContent = "The chart could not be drawn; its figures are in the table below.";
          console.error(error);
        });
      });
    }).catch(function (error) {
      views.forEach(function (view) {
        view.textContent = "Charts could not be loaded; the figures are in the tables below.";
      });
      console.error(error);
    });
  }

  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:load", render);
})();
