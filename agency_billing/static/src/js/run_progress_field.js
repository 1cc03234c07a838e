import { registry } from "@web/core/registry";
import { ProgressBarField, progressBarField } from "@web/views/fields/progress_bar/progress_bar_field";
import { onMounted, onWillUnmount } from "@odoo/owl";

// How often an open billing run working in the background is read again.
const REFRESH_MS = 2000;
const ACTIVE_STATES = ["queued", "running"];

/**
 * The progress bar of a billing run that follows the run live: while the run
 * waits or works in the background, its record is read again every few
 * seconds, so the counts, the log and the state on screen keep up.
 */
export class RunProgressField extends ProgressBarField {
    setup() {
        super.setup();
        onMounted(() => {
            this.timer = setInterval(() => {
                const record = this.props.record;
                if (ACTIVE_STATES.includes(record.data.state) && !record.dirty) {
                    record.load();
                }
            }, REFRESH_MS);
        });
        onWillUnmount(() => clearInterval(this.timer));
    }
}

registry.category("fields").add("agency_billing_run_progress", {
    ...progressBarField,
    component: RunProgressField,
});
