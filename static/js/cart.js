/* Cart on the schedule and checkout pages: quantity steppers, the live total and the
   receiving options. Progressive enhancement only: without JavaScript both pages work as
   plain forms and the server prices the cart. Prices are summed in cents; the server
   checks the total again ("expected_total") when the order is placed. */
(function () {
  "use strict";
  var root = document.querySelector("[data-cart]");
  if (!root) return;
  var inputs = Array.prototype.slice.call(document.querySelectorAll("input[data-cart-qty]"));

  function cents(text) {
    var n = parseFloat(text);
    return isNaN(n) ? 0 : Math.round(n * 100);
  }
  function money(c) { return (c / 100).toFixed(2); }
  function quantity(input) {
    var n = parseInt(input.value, 10);
    return isNaN(n) || n < 0 ? 0 : n;
  }
  function clamp(input, value) {
    var max = parseInt(input.getAttribute("max"), 10);
    if (isNaN(value) || value < 0) value = 0;
    if (!isNaN(max) && value > max) value = max;
    return value;
  }
  function each(selector, fn) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), fn);
  }
  function fulfilment() {
    var checked = root.querySelector("input[name=fulfilment]:checked");
    if (checked) return checked.value;
    var hidden = root.querySelector("input[type=hidden][name=fulfilment]");
    return hidden ? hidden.value : "pickup";
  }

  function update() {
    var goods = 0, count = 0;
    inputs.forEach(function (input) {
      var q = quantity(input), amount = q * cents(input.getAttribute("data-price"));
      goods += amount;
      count += q;
      each('[data-line-amount="' + input.id + '"]', function (node) { node.textContent = money(amount); });
    });
    var mode = fulfilment();
    var fee = mode === "delivery" ? cents(root.getAttribute("data-delivery-fee")) : 0;
    each("[data-cart-goods]", function (node) { node.textContent = money(goods); });
    each("[data-cart-total]", function (node) {
      node.textContent = (node.getAttribute("data-currency") || "") + money(goods + fee);
    });
    each("[data-cart-count]", function (node) { node.textContent = count; });
    each("[data-cart-expected]", function (node) { node.value = money(goods + fee); });
    each("[data-cart-submit]", function (node) { node.disabled = count === 0; });
    each("[data-show-for]", function (node) { node.hidden = node.getAttribute("data-show-for") !== mode; });
  }

  // Start the schedule page's steppers from the cart carried back from checkout.
  if (root.hasAttribute("data-cart-prefill") && window.URLSearchParams) {
    var params = new URLSearchParams(window.location.search);
    inputs.forEach(function (input) {
      if (params.has(input.name)) input.value = clamp(input, parseInt(params.get(input.name), 10));
    });
  }

  each("button[data-step]", function (button) {
    var input = document.getElementById(button.getAttribute("data-target"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      input.value = clamp(input, quantity(input) + parseInt(button.getAttribute("data-step"), 10));
      update();
    });
  });
  inputs.forEach(function (input) {
    input.addEventListener("input", update);
    input.addEventListener("change", function () {
      if (input.value !== "") input.value = clamp(input, parseInt(input.value, 10));
      update();
    });
  });
  root.addEventListener("change", update);
  each("[data-js-hide]", function (node) { node.hidden = true; });

  // Leave the untouched items out of the schedule page's checkout link.
  if (root.method && root.method.toLowerCase() === "get") {
    root.addEventListener("submit", function () {
      inputs.forEach(function (input) { if (quantity(input) === 0) input.disabled = true; });
    });
    window.addEventListener("pageshow", function () {
      inputs.forEach(function (input) { input.disabled = false; });
    });
  }
  update();
})();
