//! Resource attributes: who sent the telemetry, from which browser.

use alloc::string::String;
use alloc::vec::Vec;

use super::span::{Attrs, Value};

/// What the page and `init` say about the sender.
///
/// ```
/// use waggle_rum::core::resource::ResourceInfo;
/// let info = ResourceInfo { service_name: "shop".into(), ..ResourceInfo::default() };
/// let attrs = info.attributes();
/// assert!(attrs.json().starts_with(br#"{"key":"service.name","value":{"stringValue":"shop"}}"#));
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
    pub user_agent: String,
    /// `navigator.userAgentData.brands`, as `Brand Version` strings.
    pub brands: Vec<String>,
    /// `navigator.userAgentData.platform`.
    pub platform: String,
    /// `navigator.userAgentData.mobile`.
    pub mobile: Option<bool>,
    /// `navigator.language`.
    pub language: String,
}

impl ResourceInfo {
    /// The resource's attributes in the semantic conventions' names;
    /// what the browser does not say is left out.
    pub fn attributes(&self) -> Attrs {
        let mut out = Attrs::default();
        out.put("service.name", self.service_name.as_str());
        let opt = [
            ("service.version", self.service_version.as_deref().unwrap_or("")),
            ("deployment.environment.name", self.environment.as_deref().unwrap_or("")),
            ("user_agent.original", &self.user_agent),
            ("browser.platform", &self.platform),
            ("browser.language", &self.language),
        ];
        for (key, v) in opt {
            if !v.is_empty() {
                out.put(key, v);
            }
        }
        if !self.brands.is_empty() {
            out.put("browser.brands", Value::Arr(self.brands.iter().cloned().map(Value::Str).collect()));
        }
        if let Some(m) = self.mobile {
            out.put("browser.mobile", m);
        }
        out.put("telemetry.sdk.name", "waggle-rum");
        out.put("telemetry.sdk.language", "webjs");
        out.put("telemetry.sdk.version", super::otlp::VERSION);
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
        let json = format!("[{}]", String::from_utf8(info.attributes().json().to_vec()).unwrap());
        let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<String> = parsed.as_array().unwrap().iter().map(|a| a["key"].as_str().unwrap().to_string()).collect();
        assert_eq!(
            keys,
            ["service.name", "service.version", "browser.brands", "browser.mobile", "telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version"]
        );
    }
}
