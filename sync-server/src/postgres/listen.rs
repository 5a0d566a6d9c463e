//! The `LISTEN` side of live updates: one connection per instance hears every instance's
//! commits (`NOTIFY` inside each write transaction, `postgres/mod.rs`) and hands them to the
//! hub. If the connection drops, notifications may be lost meanwhile: after reconnecting every
//! connected device is told to pull (harmless when nothing moved).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::{AsyncMessage, Client, NoTls};

use super::CHANNEL;
use crate::hub::{Hub, parse_payload};

/// Connects and listens; returns once the first `LISTEN` is in place, so that no commit after
/// the server started answering is missed.
pub async fn spawn(url: &str, hub: Arc<Hub>) -> anyhow::Result<JoinHandle<()>> {
    let first = listen(url, hub.clone()).await?;
    let url = url.to_string();
    Ok(tokio::spawn(async move {
        let mut current = Some(first);
        let mut delay = Duration::from_millis(100);
        loop {
            let (client, driver) = match current.take() {
                Some(c) => c,
                None => match listen(&url, hub.clone()).await {
                    Ok(c) => {
                        tracing::info!("listening for other instances' commits again");
                        hub.publish_everywhere();
                        delay = Duration::from_millis(100);
                        c
                    }
                    Err(e) => {
                        tracing::warn!("cannot listen for other instances' commits: {e}");
                        tokio::time::sleep(delay).await;
                        delay = (delay * 2).min(Duration::from_secs(5));
                        continue;
                    }
                },
            };
            let _ = driver.await;
            drop(client);
            tracing::warn!("the connection listening for commits dropped; reconnecting");
        }
    }))
}

/// A connection with `LISTEN` issued, and the task that drives it (ends with the connection).
async fn listen(url: &str, hub: Arc<Hub>) -> anyhow::Result<(Client, JoinHandle<()>)> {
    let (client, mut connection) = tokio_postgres::connect(url, NoTls).await?;
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(n))) => match parse_payload(n.payload()) {
                    Some((workspace, moved)) => hub.publish(&workspace, &moved),
                    None => tracing::warn!("an unreadable notification on {CHANNEL}"),
                },
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!("listening connection failed: {e}");
                    break;
                }
                None => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    Ok((client, driver))
}
