//! docs/guide.md #durability-concurrency-and-bad-input: the Store is shared between threads; concurrent writers are
//! serialized, never interleaved into a broken history.

use std::thread;

use valueset::model::{NewValue, VersionSelector};
use valueset::store::{HistoryOptions, SetOptions};

use crate::common::{World, key};

#[test]
fn concurrent_writers_make_a_sound_history() -> valueset::Result<()> {
    let w = World::new();
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let store = w.store.clone();
            let (admin, app, prod) = (w.admin.clone(), w.app.clone(), w.prod.clone());
            thread::spawn(move || {
                for i in 0..25 {
                    let k = key(&format!("K{t}"));
                    store
                        .set(
                            &admin,
                            &app,
                            &k,
                            NewValue::plain(i.to_string()),
                            SetOptions::default(),
                        )
                        .unwrap();
                    if i % 5 == 0 {
                        store
                            .set(
                                &admin,
                                &app,
                                &k,
                                NewValue::plain(format!("p{i}")),
                                SetOptions {
                                    env: Some(prod.clone()),
                                    ..Default::default()
                                },
                            )
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let app = w.store.history(
        &w.admin,
        &w.app,
        HistoryOptions {
            limit: Some(1000),
            ..Default::default()
        },
    )?;
    assert_eq!(app.len(), 100);
    let prod = w.store.history(
        &w.admin,
        &w.app,
        HistoryOptions {
            env: Some(w.prod.clone()),
            limit: Some(1000),
            ..Default::default()
        },
    )?;
    assert_eq!(prod.len(), 120);
    // Sequence numbers are dense: every change got its own version.
    let mut seqs: Vec<String> = prod
        .iter()
        .map(|v| v.id.to_string()[1..].to_owned())
        .collect();
    seqs.dedup();
    assert_eq!(seqs.len(), 120);
    for t in 0..4 {
        assert_eq!(w.get(None, &format!("K{t}")).as_deref(), Some("24"));
        assert_eq!(
            w.get(Some(&w.prod), &format!("K{t}")).as_deref(),
            Some("p20")
        );
    }
    let latest = w
        .store
        .version(&w.admin, &w.app, VersionSelector::Latest, Some(&w.prod))?;
    assert_eq!(latest.values.len(), 4);
    Ok(())
}
