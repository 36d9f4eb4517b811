// Labels each table cell with its column's heading (data-label), and turns a table that
// is wider than its place into a list of cards (class "cards", pedsdesk.css), so no page
// scrolls sideways on a tablet or a phone and every figure still says what it is.
(function () {
  function label(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      var names = [];
      heads.forEach(function (th) {
        for (var i = 0; i < (th.colSpan || 1); i++) names.push(th.textContent.trim());
      });
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.children, function (cell) {
          var name = names[column];
          if (name && !cell.hasAttribute("data-label") && cell.colSpan < names.length) {
            cell.setAttribute("data-label", name);
          }
          column += cell.colSpan || 1;
        });
      });
    });
  }
  function fit(root) {
    root.querySelectorAll("main table:not(.schedule)").forEach(function (table) {
      table.classList.remove("cards");
      var room = table.parentElement.clientWidth;
      if (table.getBoundingClientRect().width > room + 1) table.classList.add("cards");
    });
  }
  function both(root) { label(root); fit(root); }
  document.addEventListener("DOMContentLoaded", function () { both(document); });
  document.addEventListener("htmx:afterSettle", function (event) { both(event.target); });
  var pending;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { fit(document); }, 150);
  });
})();
