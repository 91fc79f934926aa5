import type { z } from 'zod';

/** A readable one-line account of what failed validation and where: `payload: expected object`. */
export function zodIssuesDetail(issues: z.core.$ZodIssue[], where: string): string {
  return issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.map(String).join('.') : where;
      if (issue.code === 'unrecognized_keys') {
        return `${path === where ? where : path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
      }
      return `${path}: ${issue.message}`;
    })
    .join('; ');
}
