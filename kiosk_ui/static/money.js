/* Money as the shop's people read it, on the till page: the pieces come from the server
   (domain/money_text.money_parts, Babel), so the till writes "51 569,28 kr" exactly as the receipt does.
   A decimal string in ("1234.50", the API's form), text out; no float maths anywhere. */
(function (root) {
  "use strict";
  function moneyFormatter(parts) {
    return function (value) {
      var s = String(value).trim(), negative = s.charAt(0) === "-";
      if (negative) { s = s.slice(1); }
      if (!/^\d+(\.\d{1,2})?$/.test(s)) { return String(value); }
      var pieces = s.split("."), whole = pieces[0].replace(/^0+(?=\d)/, ""), cents = ((pieces[1] || "") + "00").slice(0, 2);
      var grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, parts.group);
      var text = parts.whole_plain && cents === "00" ? grouped : grouped + parts.decimal + cents;
      return (negative ? parts.minus : "") + parts.prefix + text + parts.suffix;
    };
  }
  root.moneyFormatter = moneyFormatter;
})(typeof window !== "undefined" ? window : globalThis);
