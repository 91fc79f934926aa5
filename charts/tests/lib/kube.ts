/** The variables the chart and manifest tests read their tools from (set by .ci/run). */
export const KUBECONFIG_VARIABLE = 'TRIGGERS_TEST_KUBECONFIG';
export const HELM_VARIABLE = 'TRIGGERS_TEST_HELM';
