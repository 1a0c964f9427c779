// The JavaScript page: nothing secret in the HTML. The script asks the app's endpoint for a
// Customer Session, hands it to Stripe.js, and asks again shortly before it expires.
import { describeError, loadStripe, paymentForm, postJSON, readJSON, showMessage } from "./payment.js";

// Ask for a new session this long before the current one expires (seconds).
const RENEW_BEFORE = 60;

const config = readJSON("spa-config");
const status = document.getElementById("session-status");
const form = document.getElementById("payment-form");
const stripe = loadStripe(config, document.getElementById("payment-message"));
let payment = null;
let timer = null;

function schedule(seconds, callback) {
  clearTimeout(timer);
  timer = setTimeout(callback, Math.max(1, seconds) * 1000);
}

async function renew() {
  let answer;
  try {
    answer = await postJSON(config.sessionUrl, { components: "payment_element" });
  } catch (error) {
    answer = { response: { ok: false, status: 0 }, data: { detail: error.message, code: "network" } };
  }
  const { response, data } = answer;
  if (response.ok) {
    payment.mount(data.client_secret);
    const expires = new Date(data.expires_at * 1000);
    showMessage(status, `Saved payment methods loaded; session renews before ${expires.toLocaleTimeString()}.`, "success");
    schedule(data.expires_at - Date.now() / 1000 - RENEW_BEFORE, renew);
    return;
  }
  // Pay without saved methods meanwhile; retry when the server says when (Retry-After).
  payment.mount(null);
  const retryAfter = Number(response.headers && response.headers.get("Retry-After"));
  let text = `Could not load your saved payment methods: ${describeError(response, data)}`;
  if (retryAfter > 0) {
    text += ` Trying again in ${retryAfter} s.`;
    schedule(retryAfter, renew);
  } else {
    text += " Reload the page to try again.";
  }
  showMessage(status, text, "error");
}

if (stripe) {
  payment = paymentForm(stripe, config, form);
  renew();
}
