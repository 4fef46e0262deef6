//! Read and analyse a large generated plan.
//!
//! The plan is written the way the real seeds (`tests/fixtures/seeds`) are: phases and
//! weeks as headings, `Step n` checkbox items with status words and emoji (about 30% done),
//! nested subtasks, `Dependencies:` and `**Owner:** | **Effort:** | **Priority:**` child
//! bullets, fenced code blocks and an `**Overall Progress**` line. It is generated
//! deterministically (xorshift, fixed seed) with exactly `n` tasks.
//!
//! Run: `cargo bench -p taskman-markdown --bench read_analyse`

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use taskman_core::Analysis;

mod plan_gen;
use plan_gen::plan_text;

/// Everything the analysis side of `taskman` computes for a plan; returns a value that
/// depends on all of it so nothing is optimised away.
fn analyse(plan: &taskman_core::Plan) -> usize {
    let a = Analysis::new(plan);
    let p = a.progress();
    let s = a.section_progress();
    let r = a.ready();
    let b = a.blocked();
    let sc = a.schedule();
    let l = taskman_core::lint::lint(&a);
    p.done + s.len() + r.len() + b.len() + sc.entries.len() + l.len()
}

fn bench_size(c: &mut Criterion, n: usize, label: &str) {
    let text = plan_text(n);
    let bytes = text.as_bytes();
    // `TASKMAN_BENCH_DUMP=dir` writes the generated plans out, e.g. to try them with the CLI.
    if let Some(dir) = std::env::var_os("TASKMAN_BENCH_DUMP") {
        let path = std::path::Path::new(&dir).join(format!("plan-{label}.md"));
        std::fs::write(&path, bytes).expect("write generated plan");
    }
    let doc = taskman_markdown::parse(bytes);
    assert_eq!(
        doc.plan.tasks.len(),
        n,
        "generator must yield exactly {n} tasks"
    );
    {
        let a = Analysis::new(&doc.plan);
        let p = a.progress();
        let findings = taskman_core::lint::lint(&a);
        let mut codes = std::collections::BTreeMap::<&str, usize>::new();
        for f in &findings {
            *codes.entry(f.code).or_default() += 1;
        }
        eprintln!(
            "[{label}] {n} tasks, {} bytes ({:.2} MB), {} sections, done {} ({:.1}%), \
             in progress {}, unknown refs {}, cycles {}, lint findings {:?}",
            bytes.len(),
            bytes.len() as f64 / 1e6,
            doc.plan.sections.len(),
            p.done,
            p.percent,
            p.in_progress,
            a.unknown.len(),
            a.cycles.len(),
            codes,
        );
    }

    let configure = |g: &mut BenchmarkGroup<'_, WallTime>| {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        if n >= 100_000 {
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(10));
            g.warm_up_time(Duration::from_secs(2));
        }
    };

    let mut g = c.benchmark_group(format!("parse/{label}"));
    configure(&mut g);
    g.bench_function("parse", |b| {
        b.iter(|| taskman_markdown::parse(black_box(bytes)).plan.tasks.len())
    });
    g.finish();

    let mut g = c.benchmark_group(format!("analyse/{label}"));
    configure(&mut g);
    g.bench_function("analyse", |b| b.iter(|| analyse(black_box(&doc.plan))));
    g.finish();

    let mut g = c.benchmark_group(format!("read_and_analyse/{label}"));
    configure(&mut g);
    g.bench_function("read_and_analyse", |b| {
        b.iter(|| {
            let doc = taskman_markdown::parse(black_box(bytes));
            analyse(&doc.plan)
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    bench_size(c, 10_000, "10k");
    bench_size(c, 100_000, "100k");
}

criterion_group!(read_analyse, benches);
criterion_main!(read_analyse);
