//! One file per thing observed. Each reads its observations' fields (the
//! layout is in its doc) and turns them into spans through the runtime.

pub mod app_spans;
pub mod document_load;
pub mod errors;
pub mod interactions;
pub mod long_frames;
pub mod path;
pub mod requests;
pub mod route_changes;
pub mod timing;
pub mod vitals;

/// The instrumentations of a running agent, each owning its state.
pub struct Instruments {
    /// fetch and XHR.
    pub requests: requests::Requests,
    /// SPA navigations.
    pub routes: route_changes::RouteChanges,
    /// Errors.
    pub errors: errors::Errors,
    /// Web vitals.
    pub vitals: vitals::Vitals,
    /// The app's spans.
    pub app: app_spans::AppSpans,
}
