//! The provisioner's integration tests, one binary with one module per concern
//! (the moto harness and the Runtime API emulator come from `xacct-testkit`).

mod bad_input; // hostile bodies and whole events: never a panic, always the right 4xx
mod binary; // the real `bootstrap` behind Runtime API emulators, several processes at once
mod cargo_lambda; // issue 23: bootstrap under `cargo lambda watch --only-lambda-apis`, function-URL requests
mod handler; // the handler against moto: create, retry, race, capacity, PHR, self-test
mod iam; // with IAM enforcement: exactly the generated permissions are enough
mod namespace; // issue 22: the account regional namespace, tags at creation, legacy buckets
mod support; // moto storage accounts, a provisioner wired like `main`, events
