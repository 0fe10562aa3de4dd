//! milly.toml: configuration types, loading with environment overrides, validation and the commented template.
