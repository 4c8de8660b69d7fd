// Checks shared by the OSB operations: catalog ids, maintenance info, context platform.
import { HallmarkError } from '../src/errors/index.js';
import type { BrokerCall } from './broker-call.js';
import { MAINTENANCE_VERSION, unknownCatalogId } from './catalog.js';

/**
 * `service_id` / `plan_id` must name this broker's offering and plan.
 * @see OSB 2.17 "Provisioning" (service_id, plan_id MUST be ids from the catalog; a request
 * "missing mandatory data" or with invalid data is answered 400).
 * @throws HallmarkError `ERR_BROKER_PLAN_UNKNOWN`
 */
export function checkCatalogIds(serviceId: string, planId: string | undefined): void {
  const reason = unknownCatalogId(serviceId, planId);
  if (reason !== undefined) throw new HallmarkError('ERR_BROKER_PLAN_UNKNOWN', { message: reason });
}

/**
 * The ids a request names must be those the instance (or binding) was created with.
 * @throws HallmarkError `ERR_BROKER_PLAN_UNKNOWN`
 */
export function checkSameIds(
  stored: { serviceId: string; planId: string },
  serviceId: string,
  planId: string | undefined,
): void {
  if (stored.serviceId !== serviceId || (planId !== undefined && stored.planId !== planId)) {
    throw new HallmarkError('ERR_BROKER_PLAN_UNKNOWN', {
      message: 'service_id or plan_id is not that of the service instance',
    });
  }
}

/**
 * A platform that sends `maintenance_info` must send the plan's version.
 * @see OSB 2.17 "Provisioning" / "Updating a Service Instance": a `maintenance_info.version`
 * that does not match the catalog MUST be answered 422 with error `MaintenanceInfoConflict`.
 * @throws HallmarkError `ERR_BROKER_MAINTENANCE_INFO_CONFLICT`
 */
export function checkMaintenanceInfo(maintenanceInfo: { version?: unknown } | undefined): void {
  if (maintenanceInfo === undefined) return;
  if (maintenanceInfo.version !== MAINTENANCE_VERSION) {
    throw new HallmarkError('ERR_BROKER_MAINTENANCE_INFO_CONFLICT', {
      message: `The maintenance information for the requested Service Plan has changed: the catalog has version ${MAINTENANCE_VERSION}`,
    });
  }
}

/**
 * When both the originating-identity header and `context` are sent, their platforms agree.
 * @see OSB 2.17 "Originating Identity": "When `context` is sent as part of a message, this
 * value MUST be the same as the `context.platform` value."
 * @throws HallmarkError `ERR_BROKER_ORIGINATING_IDENTITY_INVALID`
 */
export function checkContextPlatform(
  call: BrokerCall,
  context: Readonly<Record<string, unknown>> | undefined,
): void {
  const platform = context?.['platform'];
  if (call.identity === undefined || platform === undefined) return;
  if (platform !== call.identity.platform) {
    throw new HallmarkError('ERR_BROKER_ORIGINATING_IDENTITY_INVALID', {
      message: 'X-Broker-API-Originating-Identity names another platform than context.platform',
    });
  }
}
