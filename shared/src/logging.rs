//! Structured JSON logs, one line per event, set up once per container. A line with an `_aws`
//! field is in CloudWatch embedded metric format (`crate::invocation`): that field is written as
//! the JSON object it holds.

use std::fmt;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The AWS SDK and HTTP stack log request details at debug and trace; items hold password
/// hashes, so they stay at info whatever `LOG_LEVEL` asks for.
const QUIET_DEPENDENCIES: &str = "aws_smithy_runtime=info,aws_smithy_http_client=info,aws_sdk_dynamodb=info,\
aws_config=info,aws_runtime=info,hyper=info,hyper_util=info,h2=info,rustls=info";

/// `LOG_LEVEL` as `target=level` directives (a bare level is the default), with the quiet
/// dependencies after it; a filter of targets, not `EnvFilter`, which would link a regex engine.
fn filter(level: &str) -> Targets {
    format!("{level},{QUIET_DEPENDENCIES}")
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO).with_targets(quiet()))
}

fn quiet() -> Vec<(&'static str, tracing::Level)> {
    QUIET_DEPENDENCIES
        .split(',')
        .filter_map(|directive| Some((directive.split_once('=')?.0, tracing::Level::INFO)))
        .collect()
}

/// The level when `LOG_LEVEL` is unset.
pub const DEFAULT_LEVEL: &str = "info";

/// [`init`] with `LOG_LEVEL`, for a function that reads no other configuration.
pub fn init_from_env() {
    init(&std::env::var("LOG_LEVEL").ok().filter(|level| !level.trim().is_empty()).unwrap_or(DEFAULT_LEVEL.into()));
}

pub fn init(level: &str) {
    // A second call (tests build many apps in one process) keeps the first subscriber.
    let _ = subscriber(level, std::io::stdout).try_init();
}

/// The functions' logging: one flat JSON object per line, written to `writer`, at `level`.
pub fn subscriber<W>(level: &str, writer: W) -> impl tracing::Subscriber + Send + Sync + 'static
where
    W: for<'a> tracing_subscriber::fmt::MakeWriter<'a> + Send + Sync + 'static,
{
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .map_event_format(EmbeddedMetrics);
    tracing_subscriber::registry().with(layer).with(filter(level))
}

/// The field that holds a line's embedded metric format metadata, as JSON text.
pub const METRICS_FIELD: &str = "_aws";

/// Formats an event as `F` does (the flat JSON object), then turns its `_aws` field from the
/// JSON text tracing recorded into the object CloudWatch looks for.
struct EmbeddedMetrics<F>(F);

impl<S, N, F> FormatEvent<S, N> for EmbeddedMetrics<F>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
    F: FormatEvent<S, N>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &tracing::Event<'_>,
    ) -> fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        writer.write_str(&embed_metrics(line))
    }
}

/// `line` with its `_aws` string replaced by the JSON it holds; unchanged without one.
fn embed_metrics(line: String) -> String {
    if !line.contains("\"_aws\":\"") {
        return line;
    }
    let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_str::<serde_json::Value>(&line) else {
        return line;
    };
    let parsed = match fields.get(METRICS_FIELD) {
        Some(serde_json::Value::String(text)) => serde_json::from_str::<serde_json::Value>(text).ok(),
        _ => None,
    };
    match parsed {
        Some(metadata) => {
            fields.insert(METRICS_FIELD.to_owned(), metadata);
            let mut embedded = serde_json::Value::Object(fields).to_string();
            embedded.push('\n');
            embedded
        }
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::fmt::MakeWriter;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    #[test]
    fn trace_level_does_not_open_the_sdk_logs() {
        let captured = Captured::default();
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::fmt()
            .json()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(captured.clone())
            .finish()
            .with(super::filter("trace"));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "shared::sending", "ours");
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "request body with a password hash");
        });
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(output.contains("ours"), "{output}");
        assert!(!output.contains("password hash"), "{output}");
    }

    #[test]
    fn the_metrics_field_becomes_an_object_and_other_lines_stay_as_they_are() {
        let captured = Captured::default();
        let subscriber = super::subscriber("info", captured.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(route = "/x", _aws = r#"{"Timestamp":1,"CloudWatchMetrics":[]}"#, "request");
            tracing::info!(note = "_aws", "plain");
        });
        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = output.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(lines[0]["_aws"], serde_json::json!({"Timestamp": 1, "CloudWatchMetrics": []}));
        assert_eq!((lines[0]["route"].as_str(), lines[0]["message"].as_str()), (Some("/x"), Some("request")));
        assert_eq!(lines[0]["level"], "INFO");
        assert!(lines[0]["timestamp"].is_string());
        assert_eq!(lines[1]["note"], "_aws");
        assert!(lines[1].get("_aws").is_none());
    }

    #[test]
    fn a_level_the_filter_cannot_read_falls_back_to_info() {
        let filter = super::filter("[span]=weird{");
        assert!(filter.would_enable("shared::sending", &tracing::Level::INFO));
        assert!(!filter.would_enable("shared::sending", &tracing::Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime::client", &tracing::Level::DEBUG));
    }
}
