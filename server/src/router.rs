//! The router: health, REST under /api/v1, Leptos pages and server functions, static files, and the
//! middleware stack around all of them.

use crate::config::Config;
use crate::http::{auth, csrf, request_id::CounterRequestId, security, server_fns};
use crate::state::{AppState, HttpSettings};
use crate::ws;
use crate::{health, rest};
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, StatusCode};
use axum::routing::get;
use axum::{middleware, Router};
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::net::SocketAddr;
use std::sync::Arc;
use studyhall::server::web::Services;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name(option_env!("LEPTOS_OUTPUT_NAME").unwrap_or("studyhall"))
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .env(if config.is_production() {
            leptos::config::Env::PROD
        } else {
            leptos::config::Env::DEV
        })
        .build()
}

/// The app's routes, generated once per process. Generating them renders the app with every
/// resource's loading suppressed through a process-wide flag, so a second generation while another
/// server in the same process renders a page (the test suites start many servers at once) left that
/// page's resources pending for good and the request ended in a 408 after 30 s.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(app::App)).clone()
}

pub fn build(
    config: &Config,
    services: Services,
    origins: Vec<String>,
    addr: SocketAddr,
    tasks: tokio_util::task::TaskTracker,
) -> Router {
    let leptos_options = leptos_options(config, addr);
    let http = HttpSettings {
        secure: services.secure_cookies(),
        allowed_origins: Arc::new(origins),
        trust_proxy_headers: config.trust_proxy_headers,
    };
    let state = AppState {
        leptos_options: leptos_options.clone(),
        services: services.clone(),
        http,
        ws: Arc::new(config.ws),
        tasks,
    };
    crate::assets::precompress_in_background(&config.site_root);
    let routes = route_list();
    let context = {
        let services = services.clone();
        move || {
            provide_context(services.clone());
            app::api::ssr::provide_request_memo();
            leptos::nonce::provide_nonce();
        }
    };
    let request_id = HeaderName::from_static("x-request-id");

    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/ws", get(ws::upgrade))
        .nest("/api/v1", rest::router())
        .nest_service("/pkg", crate::assets::service(&config.site_root))
        .leptos_routes_with_context(&state, routes, context.clone(), {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(
            context,
            app::shell,
        ))
        // Listed innermost first: auth runs after the cross-site check, inside everything else; the
        // server functions' boundary after both (a refused request's body is never read).
        .layer(middleware::from_fn_with_state(
            server_fns::Boundary::new(config.body_limit_bytes),
            server_fns::boundary,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), auth::authenticate))
        .layer(middleware::from_fn_with_state(state.clone(), csrf::refuse_cross_site))
        .layer(DefaultBodyLimit::max(config.body_limit_bytes))
        .layer(middleware::from_fn_with_state(state.clone(), security::headers))
        .layer(CompressionLayer::new())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, config.request_timeout))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, CounterRequestId::default()))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::route_list;
    use leptos::prelude::*;
    use std::time::Duration;

    /// Building a router while another server in the process renders must not stall that render's
    /// resources (the route list is generated with resource loading switched off process-wide).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn building_more_servers_never_stalls_a_resource_elsewhere() {
        route_list(); // the first server of the process
        let builds = std::thread::spawn(|| {
            for _ in 0..30 {
                route_list();
            }
        });
        let (mut loaded, mut stalled) = (0, 0);
        // Resources made while the other thread builds, and at least 200 of them.
        while !builds.is_finished() || loaded + stalled < 200 {
            let resource = Owner::new().with(|| ArcResource::new(|| (), |_| async { 1u8 }));
            match tokio::time::timeout(Duration::from_millis(500), resource).await {
                Ok(_) => loaded += 1,
                Err(_) => stalled += 1,
            }
        }
        builds.join().expect("route lists built");
        assert_eq!(
            stalled, 0,
            "{stalled} resources never loaded ({loaded} did)"
        );
    }
}
