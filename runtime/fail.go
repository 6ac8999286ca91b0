package runtime

// Fail ends the job at once with err as its error (FAILED), as a failing subtask would: for
// conditions found outside the job, such as the disk under its state directory filling up.
func (j *Job) Fail(err error) { j.fail(err) }
