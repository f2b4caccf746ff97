// Twisted Poetry: a code block or a table wider than the window scrolls
// sideways.  Such a region can be reached with the keyboard (Tab) and
// scrolled with the arrow keys, like any other scrolling region; the others
// stay out of the way.
function focusableWhenScrolling() {
  for (const region of document.querySelectorAll("div.highlight pre, div.table-wrapper")) {
    if (region.scrollWidth > region.clientWidth) {
      region.tabIndex = 0;
      region.setAttribute("aria-label", region.tagName === "PRE"
        ? "code, scrolls sideways" : "table, scrolls sideways");
    } else {
      region.removeAttribute("tabindex");
      region.removeAttribute("aria-label");
    }
  }
}
document.addEventListener("DOMContentLoaded", focusableWhenScrolling);
window.addEventListener("resize", focusableWhenScrolling);
