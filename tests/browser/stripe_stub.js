// A recording stand-in for Stripe.js (https://js.stripe.com/v3/ and its pricing-table.js and
// buy-button.js), served by the browser tests in place of the real thing, which cannot be
// reached from here. It does what a page's script can observe of Stripe.js — Stripe(),
// elements(), create(), mount(), submit(), confirmPayment()/confirmSetup(), and the
// <stripe-pricing-table>/<stripe-buy-button> elements — and records in window.__stripeCalls
// what the page handed it. It draws a labelled box where Stripe's iframe would be.
(function () {
  "use strict";
  if (window.__stripeCalls) {
    return; // Loaded again by another script tag of the same page.
  }
  const calls = (window.__stripeCalls = []);

  function record(name, args) {
    calls.push({ name: name, args: JSON.parse(JSON.stringify(args === undefined ? null : args)) });
  }

  function box(title, detail) {
    const node = document.createElement("div");
    node.className = "stripe-stand-in";
    Object.assign(node.style, {
      border: "1px dashed #a3acb9",
      borderRadius: "8px",
      padding: "1.25rem",
      background: "#fbfcfd",
      color: "#596171",
      textAlign: "center",
      fontSize: "0.9rem",
    });
    const strong = document.createElement("strong");
    strong.textContent = title;
    strong.style.display = "block";
    strong.style.color = "#1a1f36";
    node.appendChild(strong);
    node.appendChild(document.createTextNode(detail));
    return node;
  }

  function withSession(secret) {
    return secret ? "Stripe.js stand-in · with a Customer Session (saved payment methods)"
      : "Stripe.js stand-in · no Customer Session (no saved payment methods)";
  }

  function element(type, elementsOptions) {
    let node = null;
    return {
      mount(target) {
        record("element.mount", { type: type });
        const container = typeof target === "string" ? document.querySelector(target) : target;
        node = box("Payment Element", withSession(elementsOptions.customerSessionClientSecret));
        container.appendChild(node);
      },
      destroy() {
        record("element.destroy", { type: type });
        if (node) {
          node.remove();
        }
      },
      unmount() {
        if (node) {
          node.remove();
        }
      },
      on() {},
      update(options) {
        record("element.update", options);
      },
    };
  }

  window.Stripe = function (publishableKey, options) {
    record("Stripe", { publishableKey: publishableKey, options: options || null });
    return {
      elements(options) {
        record("elements", options);
        return {
          create(type, createOptions) {
            record("elements.create", { type: type, options: createOptions || null });
            return element(type, options || {});
          },
          async submit() {
            record("elements.submit", {});
            return {};
          },
          update(updateOptions) {
            record("elements.update", updateOptions);
          },
        };
      },
      async confirmPayment(args) {
        record("confirmPayment", {
          clientSecret: args.clientSecret,
          confirmParams: args.confirmParams,
          redirect: args.redirect,
        });
        return { paymentIntent: { id: args.clientSecret.split("_secret_")[0], status: "succeeded" } };
      },
      async confirmSetup(args) {
        record("confirmSetup", {
          clientSecret: args.clientSecret,
          confirmParams: args.confirmParams,
          redirect: args.redirect,
        });
        return { setupIntent: { id: args.clientSecret.split("_secret_")[0], status: "succeeded" } };
      },
    };
  };

  function component(tag, title) {
    if (customElements.get(tag)) {
      return;
    }
    customElements.define(tag, class extends HTMLElement {
      connectedCallback() {
        const attributes = {};
        for (const attribute of this.attributes) {
          attributes[attribute.name] = attribute.value;
        }
        record(tag, attributes);
        this.appendChild(box(title, withSession(attributes["customer-session-client-secret"])));
      }
    });
  }
  component("stripe-pricing-table", "Stripe pricing table");
  component("stripe-buy-button", "Stripe buy button");
})();
