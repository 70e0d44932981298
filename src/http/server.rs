//! The connection loop: HTTP/1.1 over TCP, with a deadline for each request's head, the
//! client's socket address on every request, and a graceful stop.
//!
//! `axum::serve` sets no timer, so a client that sends half a request line, or keeps a
//! connection open without sending anything, holds it (and a task) for as long as it likes; a
//! few thousand such clients exhaust the file descriptors. Here hyper's header timer closes the
//! connection of a client that has not sent a whole request head in time. The timer runs while
//! a connection waits for a request (a new connection, or a kept-alive one between requests),
//! so it is also the idle timeout. Bodies are bounded by the router's request timeout.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;

/// How long a client may take to send a request's head, and how long an idle kept-alive
/// connection stays open, unless configured otherwise.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets the
/// requests in flight finish (closing idle connections) and returns once every connection is
/// closed. Handlers can extract `ConnectInfo<SocketAddr>`: the peer's socket address.
pub async fn serve<F>(
    listener: TcpListener,
    app: Router,
    header_read_timeout: Duration,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    // Puts the peer's address on each request of a connection, as `ConnectInfo`.
    let mut make_service = app.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(&error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(service) = make_service.call(peer).await;
        let service = TowerToHyperService::new(service);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            // A client that goes away or is too slow is not a fault of the server's.
            if let Err(error) = connection.await {
                tracing::debug!(%error, "connection closed with an error");
            }
        });
    }
    // New connections are refused from here on, while those open finish what they are doing.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// What axum::serve does when accepting fails: a connection that went away before it was
/// accepted is nothing; anything else (too many open files) is logged, and the loop pauses
/// rather than spinning while it lasts.
async fn accept_failed(error: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        error.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    async fn peer(ConnectInfo(peer): ConnectInfo<SocketAddr>) -> String {
        peer.to_string()
    }

    #[tokio::test]
    async fn handlers_see_the_peer_socket_address() {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("bound");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = Router::new().route("/peer", get(peer));
        let server = tokio::spawn(serve(listener, app, HEADER_READ_TIMEOUT, async move {
            let _ = stopped.await;
        }));
        let mut client = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let local = client.local_addr().expect("the client's address");
        client
            .write_all(b"GET /peer HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .await
            .expect("send");
        let mut answer = String::new();
        client.read_to_string(&mut answer).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&local.to_string()), "{answer}");
        let _ = stop.send(());
        server.await.expect("the server task").expect("served");
    }
}
