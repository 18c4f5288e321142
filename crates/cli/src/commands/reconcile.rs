//! Text output shared by `ferry merge`, `ferry rebase` and
//! `ferry export --rebase`.

use ferry_workspace::reconcile::{ComponentReconcile, Outcome, ReconcileReport};

use crate::output::{place, short};

/// Prints a merge or rebase report as text.
pub fn print_report(report: &ReconcileReport) {
    for component in &report.components {
        print_component(component);
    }
    let changed = report.changed().len();
    if report.applied {
        println!(
            "{} of {} component(s) changed {} by {} with remote {}",
            changed,
            report.components.len(),
            place(report.lane.as_ref()),
            report.strategy,
            report.remote
        );
    } else {
        println!(
            "The {} stopped on conflicts; no ref changed",
            report.strategy
        );
    }
}

fn print_component(entry: &ComponentReconcile) {
    let name = &entry.component;
    match &entry.outcome {
        Outcome::NotOnRemote => println!("{name}: not on the remote"),
        Outcome::UpToDate => println!("{name}: up to date"),
        Outcome::Ahead { ahead } => println!("{name}: ahead by {ahead} snap(s), nothing to do"),
        Outcome::FastForwarded { head } => println!("{name}: fast-forwarded to {}", head.short()),
        Outcome::Merged { snap, merge_base } => println!(
            "{name}: merged as {} (merge base {})",
            snap.short(),
            short(*merge_base)
        ),
        Outcome::Rebased {
            head,
            replayed,
            merged_instead,
        } => match merged_instead {
            Some(merge) => println!(
                "{name}: merged as {}, because local merge snap {} cannot be replayed",
                head.short(),
                merge.short()
            ),
            None => println!(
                "{name}: replayed {} snap(s) onto {}, head now {}",
                replayed.len(),
                short(entry.remote_head),
                head.short()
            ),
        },
        Outcome::Conflicted {
            replaying,
            conflicts,
            markers_written,
        } => {
            match replaying {
                Some(snap) => println!("{name}: conflicts while replaying snap {}:", snap.short()),
                None => println!("{name}: conflicts:"),
            }
            for conflict in conflicts {
                println!("  {:<14} {}", conflict.kind, conflict.path);
            }
            if *markers_written {
                println!("  conflict markers written; edit the files, then `ferry snap {name}`");
            }
        }
        Outcome::NotApplied => {
            println!("{name}: not applied, because another component conflicted")
        }
    }
}
