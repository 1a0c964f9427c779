// The checkout page: its Customer Session comes from {% customer_session %} as a JSON element.
import { loadStripe, paymentForm, readJSON } from "./payment.js";

const config = readJSON("checkout-config");
const form = document.getElementById("payment-form");
const stripe = loadStripe(config, document.getElementById("payment-message"));
if (stripe) {
  // No element when the user is anonymous or Stripe failed: pay without saved methods.
  const session = readJSON("customer-session");
  paymentForm(stripe, config, form).mount(session ? session.client_secret : null);
}
