//! Resource attributes: who sent the telemetry, from which browser.

use opentelemetry::{Array, KeyValue, StringValue, Value};

/// What the page and `init` say about the sender.
///
/// ```
/// use waggle_rum::core::resource::ResourceInfo;
/// let info = ResourceInfo { service_name: "shop".into(), ..ResourceInfo::default() };
/// let attrs = info.attributes();
/// assert_eq!(attrs[0].key.as_str(), "service.name");
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResourceInfo {
    /// `service.name`, required by `init`.
    pub service_name: String,
    /// `service.version`.
    pub service_version: Option<String>,
    /// `deployment.environment.name`.
    pub environment: Option<String>,
    /// `navigator.userAgent`.
    pub user_agent: Option<String>,
    /// `navigator.userAgentData.brands`, as `Brand Version` strings.
    pub brands: Vec<String>,
    /// `navigator.userAgentData.platform`.
    pub platform: Option<String>,
    /// `navigator.userAgentData.mobile`.
    pub mobile: Option<bool>,
    /// `navigator.language`.
    pub language: Option<String>,
}

/// `telemetry.sdk.version`.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

impl ResourceInfo {
    /// The resource's attributes in OpenTelemetry's names.
    pub fn attributes(&self) -> Vec<KeyValue> {
        let mut out = vec![KeyValue::new("service.name", self.service_name.clone())];
        let mut opt = |key: &'static str, v: &Option<String>| {
            if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
                out.push(KeyValue::new(key, v.clone()));
            }
        };
        opt("service.version", &self.service_version);
        opt("deployment.environment.name", &self.environment);
        opt("user_agent.original", &self.user_agent);
        opt("browser.platform", &self.platform);
        opt("browser.language", &self.language);
        if !self.brands.is_empty() {
            let brands: Vec<StringValue> = self.brands.iter().cloned().map(StringValue::from).collect();
            out.push(KeyValue::new("browser.brands", Value::Array(Array::String(brands))));
        }
        if let Some(m) = self.mobile {
            out.push(KeyValue::new("browser.mobile", m));
        }
        out.push(KeyValue::new("telemetry.sdk.name", "waggle-rum"));
        out.push(KeyValue::new("telemetry.sdk.language", "webjs"));
        out.push(KeyValue::new("telemetry.sdk.version", SDK_VERSION));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn omits_what_the_browser_does_not_give() {
        let info = ResourceInfo {
            service_name: "shop".into(),
            service_version: Some("1.2.3".into()),
            environment: Some(String::new()),
            brands: vec!["Chromium 156".into()],
            mobile: Some(false),
            ..ResourceInfo::default()
        };
        let attrs = info.attributes();
        let keys: Vec<&str> = attrs.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "service.name",
                "service.version",
                "browser.brands",
                "browser.mobile",
                "telemetry.sdk.name",
                "telemetry.sdk.language",
                "telemetry.sdk.version"
            ]
        );
    }
}
