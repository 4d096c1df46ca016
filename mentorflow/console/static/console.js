// The viewer's time zone, sent with the sign-in form: the console shows every date in it.
document.addEventListener("DOMContentLoaded", function () {
  var zone = "UTC";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch (error) {
    // Old browsers: dates stay in UTC, and say so.
  }
  document.querySelectorAll("input[name=time_zone]").forEach(function (input) {
    input.value = zone;
  });
  // The single sign-on link: the zone travels with the sign-in through the provider.
  document.querySelectorAll("a[data-time-zone-link]").forEach(function (link) {
    link.href = link.pathname + "?time_zone=" + encodeURIComponent(zone);
  });
});
