//! The desktop channel against a real session bus with a small notification server on it: a
//! transition alert arrives with its summary and body.
//!
//! One test per file: it points DBUS_SESSION_BUS_ADDRESS (which notify-rust reads) at its own bus
//! before any thread starts.

#[path = "support/bus.rs"]
mod bus;

use chrono::{TimeDelta, TimeZone, Utc};
use drillbook::alerts::Scheduler;
use drillbook::journal::Record;
use drillbook::notify::detect::{self, Daemon};
use drillbook::notify::{Desktop, Notifier};
use drillbook::timeline::Timeline;
use futures_util::StreamExt;
use std::collections::HashMap;
use std::time::Duration;

type NotifyArgs = (
    String,
    u32,
    String,
    String,
    String,
    Vec<String>,
    HashMap<String, zbus::OwnedVariant>,
    i32,
);

#[test]
fn a_transition_alert_reaches_the_notification_server() {
    let Some(bus) = bus::Bus::start(false) else {
        return;
    };
    // SAFETY: no other thread exists yet in this test process (one test in this file).
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };

    let plan = drillbook::runbook::load_bundled(&["ep".to_owned()]).unwrap();
    let ten = Utc.with_ymd_and_hms(2023, 11, 25, 2, 0, 0).unwrap(); // 10:00 HKT
    let mut sched = Scheduler::new(ten - TimeDelta::minutes(1));
    let alerts = sched.due(
        &plan,
        &Timeline::new(&plan.session),
        &Record::default(),
        ten,
    );
    let alert = alerts
        .iter()
        .find(|a| a.key == "primary.end")
        .unwrap()
        .clone();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // The server: owns org.freedesktop.Notifications and answers Notify with an id.
        let conn = zbus::connection::Builder::address(bus.address.as_str())
            .build()
            .await
            .unwrap();
        conn.request_name("org.freedesktop.Notifications")
            .await
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let server = conn.clone();
        tokio::spawn(async move {
            let mut stream = zbus::MessageStream::from(&server);
            while let Some(Ok(msg)) = stream.next().await {
                let h = msg.header();
                if h.message_type() != zbus::message::Type::MethodCall
                    || h.member().map(zbus::names::MemberName::as_str) != Some("Notify")
                {
                    continue;
                }
                let args: NotifyArgs = msg.body().deserialize().unwrap();
                server.reply(&h, &(7u32,)).await.unwrap();
                tx.send(args).unwrap();
            }
        });

        let env = detect::Env::from_process();
        assert!(env.bus_reachable);
        assert_eq!(detect::auto_channels(&env), ["desktop"]);
        let report = detect::Report::detect(env, Duration::from_secs(2)).await;
        assert!(
            matches!(report.daemon, Daemon::Running(_)),
            "{:?}",
            report.daemon
        );

        let res = Desktop::new().send(&alert).await;
        assert!(res.is_ok(), "{res:?}");
        let got = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the server saw no Notify within 5 s")
            .unwrap();
        assert_eq!(got.0, "drillbook", "app name");
        assert_eq!(got.3, alert.title, "summary");
        assert_eq!(got.4, alert.body, "body");
        assert_eq!(
            got.3,
            "Primary site ends, Failover to the backup site starts"
        );
        assert!(got.4.contains("10:00 HKT"), "{}", got.4);
    });
    drop(bus);
}
