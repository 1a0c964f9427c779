// A stand-in for Stripe.js (https://js.stripe.com/v3/, pricing-table.js and buy-button.js),
// for the demo while Stripe is simulated, and for the browser tests, which cannot reach
// js.stripe.com. It does what a page's script can observe of Stripe.js — Stripe(),
// elements(), create(), mount(), submit(), confirmPayment()/confirmSetup(), and the
// <stripe-pricing-table>/<stripe-buy-button> elements — and, where Stripe would draw its
// form, a box labelled as a stand-in that lists what the page handed to Stripe.js.
// window.__stripeCalls records the same, for the tests.
(function () {
  "use strict";
  if (window.__stripeCalls) {
    return; // Loaded again by another script tag of the same page.
  }
  const calls = (window.__stripeCalls = []);
  let mounts = 0;

  function record(name, args) {
    calls.push({ name: name, args: JSON.parse(JSON.stringify(args === undefined ? null : args)) });
  }

  // A client secret is the user's own, but a screenshot or a shoulder need not read it whole.
  function shown(name, value) {
    const text = String(value);
    const secret = /secret/i.test(name) && text.length > 24;
    return secret ? `${text.slice(0, 16)}…${text.slice(-4)}` : text;
  }

  function box(title, summary, handed) {
    const node = document.createElement("div");
    node.className = "stripe-stand-in";
    const heading = document.createElement("strong");
    heading.textContent = `${title} · Stripe.js stand-in`;
    const note = document.createElement("p");
    note.textContent = summary;
    const list = document.createElement("dl");
    for (const [name, value] of Object.entries(handed)) {
      const term = document.createElement("dt");
      term.textContent = name;
      const detail = document.createElement("dd");
      detail.textContent = value;
      list.append(term, detail);
    }
    node.append(heading, note, list);
    return node;
  }

  function withSession(secret) {
    return secret
      ? "With a Customer Session: Stripe would offer this customer's saved payment methods."
      : "Handed no Customer Session: Stripe would offer no saved payment methods.";
  }

  function element(type, publishableKey, elementsOptions) {
    let node = null;
    return {
      mount(target) {
        record("element.mount", { type: type });
        mounts += 1;
        const handed = { "publishable key": publishableKey };
        for (const name of ["mode", "amount", "currency", "customerSessionClientSecret"]) {
          if (elementsOptions[name] !== undefined) {
            handed[name] = shown(name, elementsOptions[name]);
          }
        }
        handed.mounted = `${new Date().toLocaleTimeString()} (${mounts} on this page)`;
        const container = typeof target === "string" ? document.querySelector(target) : target;
        node = box("Payment Element", withSession(elementsOptions.customerSessionClientSecret), handed);
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
            return element(type, publishableKey, options || {});
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
        const handed = {};
        for (const attribute of this.attributes) {
          attributes[attribute.name] = attribute.value;
          handed[attribute.name] = shown(attribute.name, attribute.value);
        }
        record(tag, attributes);
        const secret = attributes["customer-session-client-secret"];
        this.appendChild(box(title, withSession(secret), handed));
      }
    });
  }
  component("stripe-pricing-table", "Pricing table");
  component("stripe-buy-button", "Buy button");
})();
