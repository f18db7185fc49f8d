import type pc from 'picocolors';

/** The colour functions text output is written with (picocolors, on or off). Below report and cli: both use it. */
export type Colors = ReturnType<typeof pc.createColors>;
