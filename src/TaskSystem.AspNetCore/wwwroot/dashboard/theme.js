// Applies the theme chosen with the toggle before the page paints (a classic script, run in <head>).
// Without a choice the page follows the system's light or dark preference.
(function () {
  try {
    var theme = localStorage.getItem('tasksystem.theme');
    if (theme === 'light' || theme === 'dark') {
      document.documentElement.dataset.theme = theme;
    }
  } catch (e) {
    // Storage may be blocked: the system preference applies.
  }
})();
