//! Starting a card payment: store it as pending, create it at the provider, record the
//! provider's id, hand back the page where the person pays.

use billing::provider::{PayWith, PaymentRequest};
use billing::BillingError;
use domain::{PaymentMethod, PaymentStatus, PublicUrl, ReturnToken, SubscriptionToken};
use time::OffsetDateTime;

use super::{CardCheckout, CardPayments, CheckoutError, PaymentError, CARD_RETURN_PATH};

/// What the person chose on the way to paying: how (when the operator offers several ways), a
/// discount code, whether the plan is a gift for someone else, and whether to renew it
/// automatically with the same card (opt-in: the checkout's box starts unticked).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CheckoutChoices<'a> {
    pub method: Option<PaymentMethod>,
    pub promo: Option<&'a str>,
    pub gift: bool,
    /// Auto-renewal: save the card and charge the plan's full price before each end (a
    /// discount code lowers only this first payment).
    pub save_method: bool,
}

impl CheckoutChoices<'_> {
    /// Whether YooKassa is asked to save the payment method: only when the person ticked
    /// auto-renewal, for their own plan (never a gift), paying by card (or on YooKassa's page
    /// with every way the shop has, where a saved method is reported as such).
    fn saves_method(&self, method: Option<PaymentMethod>) -> bool {
        self.save_method && !self.gift && matches!(method, None | Some(PaymentMethod::BankCard))
    }
}

impl CardPayments {
    /// Opens a card payment of `plan` for the owner of `token` and returns YooKassa's
    /// confirmation URL to redirect them to. A second call moments later for the same plan
    /// (a double click) returns the same payment's URL: the payment is reused in the store
    /// and created at YooKassa under the same idempotence key with the same request, so
    /// YooKassa answers with the payment it already made.
    pub async fn start_checkout(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        now: OffsetDateTime,
    ) -> Result<String, CheckoutError> {
        self.start_checkout_with(token, plan, CheckoutChoices::default(), now)
            .await
    }

    /// [`CardPayments::start_checkout`] with what the person chose: the way to pay when the
    /// operator offers it (`[yookassa] payment_methods`; otherwise their first, or, with none
    /// listed, whatever YooKassa's page offers the shop), the price the discount code gives
    /// its owner, whether the plan is bought as a gift (marked so in YooKassa's metadata
    /// too; a gift is sold at its full price), and whether to renew automatically
    /// (`save_method`: YooKassa is asked to save the card, `save_payment_method`, and once the
    /// payment succeeds the saved method's id switches auto-renewal on). A gift never saves
    /// the method (it is not the buyer's own plan), nor does a way to pay other than a card.
    /// A reused payment keeps the choice made with its first click.
    pub async fn start_checkout_with(
        &self,
        token: &SubscriptionToken,
        plan: &str,
        choices: CheckoutChoices<'_>,
        now: OffsetDateTime,
    ) -> Result<String, CheckoutError> {
        let method = PaymentMethod::pick(
            &self.app.settings().yookassa.payment_methods,
            choices.method,
        );
        let checkout = self
            .app
            .open_redirect_payment(
                self.provider_kind(),
                token,
                plan,
                choices.promo,
                choices.gift,
                now,
            )
            .await?
            .map_err(CheckoutError::Refused)?;
        if choices.saves_method(method) && !checkout.reused {
            self.app
                .store()
                .mark_payment_saves_method(checkout.payment.id)
                .await?;
        }
        let saves_method = self
            .app
            .store()
            .payment_saves_method(checkout.payment.id)
            .await?;
        let request = match self.create_request(&checkout, method, saves_method) {
            Ok(r) => r,
            Err(e) => {
                self.give_up(&checkout, now).await;
                return Err(e);
            }
        };
        let key = idempotence_key(&checkout);
        let mut created = self.provider.create(&request, &key).await;
        if created.as_ref().is_err_and(BillingError::is_transient) {
            // Same key: if the first attempt did reach the provider, this returns that payment.
            created = self.provider.create(&request, &key).await;
        }
        let created = match created {
            Ok(c) => c,
            Err(e) => {
                self.give_up(&checkout, now).await;
                return Err(e.into());
            }
        };
        let recorded = self
            .app
            .store()
            .set_provider_payment_id(checkout.payment.id, self.provider_kind(), &created.id)
            .await?;
        if !recorded && !self.recorded_already(&checkout, &created.id).await? {
            // Canceled meanwhile: sending the person to pay it would take money we won't credit.
            return Err(PaymentError::Unexpected("a payment that stopped being pending").into());
        }
        created
            .pay_url
            .ok_or(CheckoutError::Payment(PaymentError::Unexpected(
                "a payment without a redirect confirmation URL",
            )))
    }

    /// Whether a reused payment already carries `provider_id` (the first click recorded it)
    /// and is still pending.
    async fn recorded_already(
        &self,
        checkout: &CardCheckout,
        provider_id: &str,
    ) -> Result<bool, PaymentError> {
        let current = self.app.store().payment(checkout.payment.id).await?;
        Ok(current.is_some_and(|p| {
            p.status == PaymentStatus::Pending
                && p.provider_payment_id.as_deref() == Some(provider_id)
        }))
    }

    /// The payment never reached a payment page, so nobody can pay it: cancel it now rather
    /// than leave it for the reconciler. A reused payment is left alone: the first click may
    /// have reached the payment page.
    async fn give_up(&self, checkout: &CardCheckout, now: OffsetDateTime) {
        if checkout.reused {
            return;
        }
        if let Err(e) = self.cancel_uncreated(checkout.payment.id, now).await {
            tracing::warn!(error = %e, "could not cancel a card payment the provider did not create");
        }
    }

    fn create_request(
        &self,
        checkout: &CardCheckout,
        method: Option<PaymentMethod>,
        saves_method: bool,
    ) -> Result<PaymentRequest, CheckoutError> {
        let settings = self.app.settings();
        Ok(PaymentRequest {
            payment: checkout.payment.id,
            amount: checkout.payment.amount,
            description: description(&settings.service_name, &checkout.plan),
            gift: checkout.gift,
            receipt_email: self.receipt_email(checkout.receipt_email.clone())?,
            pay_with: PayWith::Page {
                return_url: return_url(&settings.public_url, &checkout.return_token),
                method,
                save_method: saves_method,
            },
        })
    }

    /// Where the fiscal receipt goes when `[yookassa] receipts` is on (then one is required).
    pub(super) fn receipt_email(
        &self,
        email: Option<String>,
    ) -> Result<Option<String>, CheckoutError> {
        if !self.app.settings().receipts {
            return Ok(None);
        }
        email.map(Some).ok_or(CheckoutError::NoReceiptEmail)
    }
}

/// What the person sees at the provider: the service, the plan and its days.
pub(super) fn description(service_name: &str, plan: &domain::Plan) -> String {
    format!("{service_name}: {} ({} days)", plan.id, plan.days.0)
}

/// The return page's query parameter holding the payment's [`ReturnToken`].
pub const RETURN_TOKEN_PARAM: &str = "t";

/// `{public_url}/pay/return?t={return token}`: shows that payment's status and nothing else.
pub fn return_url(public_url: &PublicUrl, token: &ReturnToken) -> String {
    public_url.join_path(&format!(
        "{CARD_RETURN_PATH}?{RETURN_TOKEN_PARAM}={}",
        token.as_str()
    ))
}

/// One key per local payment: a retry, or a second click that reuses the payment, sends the
/// same request under the same key and gets YooKassa's first answer back (YooKassa keeps keys
/// for 24 hours, far longer than [`super::CHECKOUT_REUSE_WINDOW`]). The creation second keeps
/// keys apart across databases that reuse payment numbers.
fn idempotence_key(checkout: &CardCheckout) -> String {
    format!(
        "milly-checkout-{}-{}",
        checkout.payment.id.0,
        domain::unix_seconds(checkout.payment.created_at)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_return_url_carries_the_token_not_the_payment_number() {
        let token = ReturnToken::generate();
        for public_url in ["https://vpn.example/", "https://vpn.example"] {
            assert_eq!(
                return_url(&public_url.parse().unwrap(), &token),
                format!("https://vpn.example/pay/return?t={}", token.as_str())
            );
        }
    }
}
