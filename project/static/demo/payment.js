// The Payment Element in deferred-intent mode, shared by the checkout and the JavaScript page.
//
// The page renders its settings and (on server-rendered pages) the Customer Session as JSON
// elements; this module reads them, never a secret written into script source. On submit it
// asks the server for a PaymentIntent or SetupIntent (the server fixes the amount and the
// customer) and confirms it with Stripe.js.

export function readJSON(id) {
  const element = document.getElementById(id);
  return element ? JSON.parse(element.textContent) : null;
}

// Django's CSRF token, from the page's {% csrf_token %} field (works with CSRF_COOKIE_HTTPONLY
// and CSRF_USE_SESSIONS too).
export function csrfToken() {
  const field = document.querySelector("input[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

// POST JSON with the CSRF token; resolves to {response, data} (data is null if not JSON).
export async function postJSON(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify(body || {}),
  });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { response, data };
}

// A sentence for an error answer of the site's JSON endpoints ({"code", "detail"}).
export function describeError(response, data) {
  if (data && data.detail) {
    return `${data.detail} (${data.code || response.status})`;
  }
  return `The server answered ${response.status}.`;
}

export function showMessage(element, text, kind) {
  element.textContent = text;
  element.dataset.kind = kind || "info";
  element.hidden = !text;
}

// Mounts the Payment Element into `form` and handles its submit. `mount(secret)` (re)creates
// the element with a Customer Session client secret, or without one (no saved methods).
export function paymentForm(stripe, config, form) {
  const button = form.querySelector("button[type=submit]");
  const message = form.querySelector(".message");
  const container = form.querySelector(".payment-element");
  let elements = null;
  let element = null;

  function mount(customerSessionClientSecret) {
    if (element) {
      element.destroy();
    }
    const options = {
      mode: config.mode,
      currency: config.currency,
      appearance: { theme: "stripe" },
    };
    if (config.mode === "payment") {
      options.amount = config.amount;
    }
    if (customerSessionClientSecret) {
      options.customerSessionClientSecret = customerSessionClientSecret;
    }
    elements = stripe.elements(options);
    element = elements.create("payment", { layout: "tabs" });
    element.mount(container);
  }

  async function pay(event) {
    event.preventDefault();
    if (!elements) {
      return;
    }
    button.disabled = true;
    showMessage(message, "", "info");
    try {
      const { error: invalid } = await elements.submit();
      if (invalid) {
        showMessage(message, invalid.message, "error");
        return;
      }
      const { response, data } = await postJSON(config.intentUrl, {});
      if (!response.ok || !data || !data.client_secret) {
        showMessage(message, describeError(response, data || {}), "error");
        return;
      }
      const confirm = config.mode === "setup" ? stripe.confirmSetup : stripe.confirmPayment;
      const result = await confirm.call(stripe, {
        elements,
        clientSecret: data.client_secret,
        confirmParams: { return_url: config.returnUrl },
        redirect: "if_required",
      });
      if (result.error) {
        showMessage(message, result.error.message, "error");
      } else if (config.mode === "setup") {
        showMessage(message, "Card saved. The checkout will offer it next time.", "success");
      } else {
        showMessage(message, `Payment ${result.paymentIntent.status}. Thank you!`, "success");
      }
    } catch (error) {
      showMessage(message, `Something went wrong: ${error.message}`, "error");
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener("submit", pay);
  return { mount };
}

// Stripe.js, or null (with a message) when it could not load or no key is configured.
export function loadStripe(config, messageElement) {
  if (typeof window.Stripe !== "function") {
    showMessage(messageElement, "Stripe.js did not load from js.stripe.com.", "error");
    return null;
  }
  if (!config.publishableKey) {
    showMessage(messageElement, "Set STRIPE_PUBLISHABLE_KEY to load the Payment Element.", "error");
    return null;
  }
  return window.Stripe(config.publishableKey);
}
