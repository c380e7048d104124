// Package azure reads the Azure Functions 2019 invocation trace that the
// client's azure workloads replay, generates synthetic traces in the same
// layout, and summarises either.
//
// # The trace
//
// The public dataset (Azure/AzurePublicDataset, AzureFunctionsDataset2019)
// has one CSV file per day, invocations_per_function_md.anon.dNN.csv
// (d01..d14): a header, then one row per function with HashOwner, HashApp,
// HashFunction, Trigger and 1440 per-minute invocation counts. The paper's
// pre-release trace named its files invocations_per_function_md.svls.anon.dNN.csv;
// Path prefers that name when both exist, as the original client does. Load
// is strict where the original crashed or misread: a row with the wrong
// number of fields or a count that is not a non-negative integer is an
// error naming the file and line.
//
// # Why a generator
//
// The dataset cannot be shipped with the project (nor downloaded where
// tests run), yet the Azure experiments only make sense with its shape: a
// few functions carrying almost all invocations, most functions nearly
// idle, a daily cycle, bursts, and timers. Generate writes files that a
// reader cannot tell from the dataset by layout, drawn from this model:
//
//   - Apps have 1 function (54%), 2 (16%), 3 (10%), 4-5 (8%), 6-10 (7%) or
//     11-30 (5%) [Shahrad et al., ATC'20, Fig. 1]. An app belongs to the
//     previous app's owner with probability 1 − NewOwnerProb (30%).
//   - Each function's trigger is drawn from the paper's mix by functions
//     (Fig. 2): http 55.0%, timer 15.6%, queue 15.2%, orchestration 6.9%,
//     storage 2.8%, event 2.2%, others 2.2%. About 30% of apps then have a
//     timer.
//   - An app's expected daily invocations are log-normal: 10^x with
//     x ~ Normal(0.9 + trigger offset, 1.77), capped at 10^8 (8 orders of
//     magnitude). Its non-timer functions share them in proportion to
//     10^(0.5·z + trigger offset). Offsets (queue +0.5, event +1.5,
//     orchestration and storage −0.3, others −0.5 decades) make the rare
//     queue and event functions carry a large share of invocations, as in the
//     paper. The median and spread were fitted so that ~45% of apps are
//     invoked at most once an hour and ~81% at most once a minute.
//   - A timer function fires once at a fixed phase and period: every 1 (25%),
//     5 (25%), 10, 15, 30 (10% each), 60 (12%), 120 (3%), 360 (2%), 720 (1%)
//     or 1440 (2%) minutes. These weights are an assumption (common cron
//     schedules); the paper gives no breakdown.
//   - Other functions' per-minute counts are Poisson with a rate that
//     follows a daily cycle, 1 + a·cos(2π(minute − peak)/1440) with a
//     uniform in [0, 0.6] and the app's peak near 15:00 (σ = 2 h), times
//     exp(0.5·g − 0.125) where g is an AR(1) Gaussian series with lag-1
//     correlation 0.8 (bursts lasting minutes).
//   - Across days a function keeps its ids, trigger and popularity; its
//     daily volume varies by a log-normal factor (σ = 0.2) and is 15% lower
//     on days 6 and 7 of each week (an assumption). Every row has at least
//     one invocation.
//
// Each (function, day) has its own random stream derived from the seed, so
// equal seeds give byte-identical files. Summarize reports the figures the
// dataset is known for, on generated files or on the real ones.
package azure
