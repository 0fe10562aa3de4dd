//! The operator's view of payments: the list, and one payment by our id (amount, status,
//! provider ids; never card data).

use domain::{Payment, PaymentId, UserId};

use crate::{App, AppError};

impl App {
    /// Every payment, or one person's, oldest first.
    pub async fn payments(&self, user: Option<UserId>) -> Result<Vec<Payment>, AppError> {
        Ok(self.store().list_payments(user).await?)
    }

    /// One payment by our id; `None` if there is no such payment.
    pub async fn payment(&self, id: PaymentId) -> Result<Option<Payment>, AppError> {
        Ok(self.store().payment(id).await?)
    }
}
