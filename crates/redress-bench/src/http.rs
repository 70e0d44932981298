//! Both ends of the HTTP path: a real server started in-process as `redress serve` runs (port
//! 0 on 127.0.0.1, the system clock, the scheduler ticking every second), and the reqwest
//! client that loads it over loopback TCP.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use redress::app::{Application, Config};
use redress::clock::{Clock, SystemClock};
use redress::store::Store;
use redress_core::{Procedure, Role};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::complaints;

/// A running server, on its own runtime.
pub struct Server {
    pub address: SocketAddr,
    /// The server's own store, for checks after the load.
    pub store: Store,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Server {
    /// Builds the application on `database` as `redress serve` does by default and starts it
    /// on `rt`.
    pub fn start(
        database: &str,
        procedure: &Arc<Procedure>,
        rt: &Runtime,
    ) -> anyhow::Result<Server> {
        let config = Config::new(
            database,
            "127.0.0.1:0",
            procedure.clone(),
            Arc::new(SystemClock),
        );
        let app = rt.block_on(Application::build(config))?;
        let address = app.local_addr()?;
        let store = app.store().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = rt.spawn(app.run_until(async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            address,
            store,
            stop,
            task,
        })
    }

    /// A customer services handler's bearer token, as an `Authorization` value.
    pub fn handler_authorization(&self, rt: &Runtime) -> anyhow::Result<String> {
        let token = rt.block_on(self.store.create_token(
            Role::Handler,
            Some("customer_services"),
            Some("bench"),
            Some("redress-bench"),
            SystemClock.now(),
        ))?;
        Ok(format!("Bearer {token}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// Stops the server gracefully (as SIGTERM does) and waits for it.
    pub fn stop(self, rt: &Runtime) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        rt.block_on(self.task).context("the server task panicked")?
    }
}

/// A client for `clients` concurrent requests: no proxy, no Nagle delay, a kept-alive
/// connection for each.
pub fn client(clients: usize) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(clients)
        .build()
}

/// `POST /api/v1/complaints` of client `c`'s `n`th complaint, reading the whole answer; an
/// answer other than 201 is an error.
pub async fn post_complaint(
    client: &reqwest::Client,
    url: &str,
    authorization: &str,
    c: usize,
    n: u64,
) -> Result<(), String> {
    let response = client
        .post(url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .json(&complaints::body(c, n))
        .send()
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let answer = response
        .bytes()
        .await
        .map_err(|e| format!("reading the answer failed: {e}"))?;
    if status != reqwest::StatusCode::CREATED {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&answer)
        ));
    }
    Ok(())
}
