/*
 * SPDX-FileCopyrightText: 2020 Stalwart Labs Ltd <hello@stalw.art>
 *
 * SPDX-License-Identifier: AGPL-3.0-only OR LicenseRef-SEL
 */

use crate::{Context, Event, compiler::grammar::tests::test_extlists::TestValidExtList};

use super::TestResult;

impl TestValidExtList {
    pub(crate) fn exec(&self, ctx: &mut Context) -> TestResult {
        // RFC 6134 2.7: list names are resolved by the host, which knows
        // which lists exist and who may see them.
        TestResult::Event {
            event: Event::ValidExtList {
                lists: ctx.eval_values_owned(&self.list_names),
            },
            is_not: self.is_not,
        }
    }
}
