//! The website's parts that come from configuration and code: format rules for `/sub/` and the
//! privacy page's inventory table.

/// The privacy page's table of what is stored, generated from the inventory in code.
pub fn inventory_rows(config: &config::Config) -> Vec<web::InventoryEntry> {
    domain::inventory::ENTRIES
        .iter()
        .map(|e| web::InventoryEntry {
            data: format!("{} ({}.{})", e.holds, e.table, e.column),
            category: format!("{} ({})", e.category.label(), e.category.clause()),
            purpose: e
                .purposes
                .iter()
                .map(|p| p.label())
                .collect::<Vec<_>>()
                .join("; "),
            retention: e.retention.describe(config.privacy.retention_days),
        })
        .collect()
}

/// `[subscription] rules` (validated at load) for the website's format choice.
pub fn format_rules(config: &config::Config) -> Vec<web::subscription::format::FormatRule> {
    config
        .subscription
        .rules
        .iter()
        .filter_map(|r| {
            let format = r.format.parse().ok()?;
            Some(web::subscription::format::FormatRule::new(
                &r.user_agent,
                format,
            ))
        })
        .collect()
}
