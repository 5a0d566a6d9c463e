//! The server's own accept loop, in place of `axum::serve`, which sets no deadlines: a stranger
//! who can open sockets must not be able to hold connections or memory. Each connection gets
//! a deadline for its request headers, which is also how long an idle keep-alive connection
//! waits for its next request ([`NetLimits::header_timeout`]); bodies have theirs in the
//! handlers. Connections are bounded per client address, and so are connections that have not
//! yet made an authenticated request, across all addresses: one over either bound is closed
//! at once.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Deadlines and connection bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetLimits {
    /// Time for a request's headers, and for an idle keep-alive connection's next request.
    pub header_timeout: Duration,
    /// Time for a request's whole body (8 MiB at most: 140 KB/s at the slowest).
    pub body_timeout: Duration,
    /// Connections one client address may hold open at once.
    pub per_address: usize,
    /// Connections that have not made an authenticated request yet, from all addresses.
    pub unauthenticated: usize,
}

impl Default for NetLimits {
    fn default() -> Self {
        NetLimits {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(60),
            per_address: 64,
            unauthenticated: 256,
        }
    }
}

/// Who is at the other end of a request's connection, put into every request's extensions.
#[derive(Clone)]
pub struct Peer {
    pub ip: IpAddr,
    /// The connection's unauthenticated slot, given back by its first authenticated request.
    slot: Arc<Mutex<Option<OwnedSemaphorePermit>>>,
}

impl Peer {
    /// The connection made an authenticated request: it no longer counts as unauthenticated.
    pub fn authenticated(&self) {
        self.slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    }

    /// A peer outside any connection (requests driven in process, in tests).
    pub fn local() -> Peer {
        Peer { ip: IpAddr::from([127, 0, 0, 1]), slot: Arc::default() }
    }
}

/// Open connections per address, and the unauthenticated slots.
struct Connections {
    limits: NetLimits,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    unauthenticated: Arc<Semaphore>,
}

/// A connection counted in; counted out when dropped.
struct Admitted {
    table: Arc<Connections>,
    ip: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut m = self.table.per_address.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = m.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                m.remove(&self.ip);
            }
        }
    }
}

impl Connections {
    fn admit(table: &Arc<Connections>, ip: IpAddr) -> Option<(Admitted, OwnedSemaphorePermit)> {
        let slot = table.unauthenticated.clone().try_acquire_owned().ok()?;
        let mut m = table.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = m.entry(ip).or_insert(0);
        if *n >= table.limits.per_address {
            return None;
        }
        *n += 1;
        Some((Admitted { table: table.clone(), ip }, slot))
    }
}

/// Serves `router` on `listener` with `limits` until `shutdown` resolves, then waits for the
/// open connections to finish their requests (at most `limits.body_timeout`).
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: NetLimits,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let table = Arc::new(Connections {
        limits,
        per_address: Mutex::default(),
        unauthenticated: Arc::new(Semaphore::new(limits.unauthenticated)),
    });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, addr): (tokio::net::TcpStream, SocketAddr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some((admitted, slot)) = Connections::admit(&table, addr.ip()) else {
            tracing::debug!(%addr, "connection refused: over the connection bounds");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let peer = Peer { ip: addr.ip(), slot: Arc::new(Mutex::new(Some(slot))) };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
            req.extensions_mut().insert(peer.clone());
            let mut router = router.clone();
            async move { tower_service::Service::call(&mut router, req).await }
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout);
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let _ = watcher
                        .watch(builder.serve_connection(TokioIo::new(stream), service))
                        .await;
                }
                // The handshake gets the headers' deadline: a stranger cannot hold the
                // connection open by stalling it.
                Some(tls) => {
                    match tokio::time::timeout(limits.header_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => {
                            let conn = builder.serve_connection(TokioIo::new(stream), service);
                            let _ = watcher.watch(conn).await;
                        }
                        Ok(Err(e)) => tracing::debug!(%addr, "TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!(%addr, "TLS handshake timed out"),
                    }
                }
            }
            drop(admitted);
        });
    }
    // New connections are refused from now on (a load balancer moves on to another instance);
    // the open ones finish the requests under way.
    drop(listener);
    let _ = tokio::time::timeout(limits.body_timeout, graceful.shutdown()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_bounded_per_address_and_while_unauthenticated() {
        let limits = NetLimits { per_address: 2, unauthenticated: 3, ..NetLimits::default() };
        let table = Arc::new(Connections {
            limits,
            per_address: Mutex::default(),
            unauthenticated: Arc::new(Semaphore::new(limits.unauthenticated)),
        });
        let a = IpAddr::from([10, 0, 0, 1]);
        let b = IpAddr::from([10, 0, 0, 2]);
        let first = Connections::admit(&table, a).expect("first");
        let second = Connections::admit(&table, a).expect("second");
        assert!(Connections::admit(&table, a).is_none(), "a third from one address");
        let other = Connections::admit(&table, b).expect("another address");
        assert!(Connections::admit(&table, b).is_none(), "three unauthenticated in all");
        // The first connection authenticates: its slot goes back.
        drop(first.1);
        let third_b = Connections::admit(&table, b).expect("a slot came back");
        drop((first.0, second, other, third_b));
        assert!(table.per_address.lock().unwrap().is_empty(), "closed connections count out");
    }
}
